# citypipe: the commands a user types. Each target installs what it needs.
#   make            build (Release)
#   make demo       install, build, run the main pipeline, print a summary
#   make test       install, build, run every test through CTest
#   make bench      benchmarks against the anchor tools, as ratios
#   make install PREFIX=/usr/local
#   make deb        a Debian package, build-deb/citypipe_VERSION_ARCH.deb
#   make fuzz       libFuzzer targets, SECONDS=300 each
#   make clean
# SANITIZE=1 builds with ASan/UBSan into build-asan/.

PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
ifeq ($(SANITIZE),1)
BUILD    ?= build-asan
CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCITYPIPE_SANITIZE=ON
else
BUILD    ?= build
CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=Release
endif
# CI builds treat warnings as errors.
ifeq ($(CI),true)
CMAKE_FLAGS += -DCITYPIPE_WERROR=ON
endif

# Debian packages: to build, to test, to benchmark.
BUILD_PKGS = g++ cmake make pkg-config librdkafka-dev libcli11-dev libsimdjson-dev \
             libfmt-dev libpq-dev catch2 libncurses-dev libcpp-httplib-dev zlib1g-dev libzstd-dev
TEST_PKGS  = postgresql kcat tmux procps clang libclang-rt-14-dev time chromium curl zstd miller groff zsh fish
# Node.js for DuckDB (npm) is installed by its benchmark only when missing.
BENCH_PKGS = miller time python3-sklearn

.PHONY: all build deps test-deps bench-deps demo test bench install deb clean fuzz

all: build

deps:
	@bash scripts/deps.sh $(BUILD_PKGS)

test-deps:
	@bash scripts/deps.sh $(BUILD_PKGS) $(TEST_PKGS)

bench-deps:
	@bash scripts/deps.sh $(BUILD_PKGS) $(TEST_PKGS) $(BENCH_PKGS)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo:
	@bash scripts/deps.sh $(BUILD_PKGS) postgresql
	@$(MAKE) --no-print-directory build
	@bash examples/demo.sh $(BUILD)/bin

test: test-deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: bench-deps
	@$(MAKE) --no-print-directory build
	@bash bench/run.sh $(BUILD)/bin

fuzz: deps
	@bash scripts/deps.sh clang libclang-rt-14-dev
	@bash scripts/fuzz.sh $(or $(SECONDS),300)

# Builds the tools only (no tests) and installs nothing from apt: a missing
# build package is named, for you to install.
install:
	@bash scripts/deps.sh --check $(BUILD_PKGS)
	@$(MAKE) --no-print-directory $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target citypipe_tools
	cmake --install $(BUILD) --prefix $(PREFIX)

# dpkg-shlibdeps (dpkg-dev) and file compute the package's Depends.
deb:
	@bash scripts/deps.sh $(BUILD_PKGS) dpkg-dev file
	cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCITYPIPE_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr
	cmake --build build-deb -j $(JOBS) --target citypipe_tools
	cd build-deb && cpack -G DEB
	@ls build-deb/citypipe_*.deb

clean:
	rm -rf build build-asan build-fuzz build-deb build-native
