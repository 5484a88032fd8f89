// What the CPU we run on can do, for code that carries a faster kernel for
// newer CPUs beside the portable one and picks one at run time. A build for
// this machine only (-DCITYPIPE_NATIVE=ON, -march=native) answers at compile
// time where it can.
#pragma once

#include <cstdlib>
#include <string_view>

namespace citypipe {

// AVX2 is usable (the CPU has it and the OS saves its registers), and the
// environment does not ask for the portable kernels (CITYPIPE_CPU=portable,
// for tests and benchmarks of those on a newer CPU).
inline bool cpu_has_avx2() {
#if defined(__AVX2__)
  return true;
#else
  static const bool has = [] {
    const char* force = std::getenv("CITYPIPE_CPU");
    if (force != nullptr && std::string_view(force) == "portable") return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
#endif
}

}  // namespace citypipe

// Marks a function compiled for AVX2 only; call it only when cpu_has_avx2().
#define CITYPIPE_TARGET_AVX2 __attribute__((target("avx2")))
