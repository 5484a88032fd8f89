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

// AVX-512 (F, BW, DQ, VL) is usable, and CITYPIPE_CPU asks neither for the
// portable kernels nor for AVX2 ones (CITYPIPE_CPU=avx2, to test those here).
inline bool cpu_has_avx512() {
  static const bool has = [] {
    if (!cpu_has_avx2()) return false;
    const char* force = std::getenv("CITYPIPE_CPU");
    if (force != nullptr && std::string_view(force) == "avx2") return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  }();
  return has;
}

}  // namespace citypipe

// Functions defined between these two are compiled for AVX2 (intrinsics,
// and vectorised for it); call them only when cpu_has_avx2(). Templates and
// inline functions defined elsewhere keep the portable target, so no AVX2
// copy of a shared inline function can be picked by the linker.
#if defined(__clang__)
#define CITYPIPE_TARGET_AVX2_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"avx2\"))), apply_to = function)")
#define CITYPIPE_TARGET_AVX2_END _Pragma("clang attribute pop")
#else
#define CITYPIPE_TARGET_AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2\")")
#define CITYPIPE_TARGET_AVX2_END _Pragma("GCC pop_options")
#endif

// The same for AVX-512 (F, BW, DQ, VL, and AVX2); call them only when
// cpu_has_avx512().
#if defined(__clang__)
#define CITYPIPE_TARGET_AVX512_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"avx2,avx512f,avx512bw,avx512dq,avx512vl\"))), apply_to = function)")
#define CITYPIPE_TARGET_AVX512_END _Pragma("clang attribute pop")
#else
#define CITYPIPE_TARGET_AVX512_BEGIN \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,avx512f,avx512bw,avx512dq,avx512vl\")")
#define CITYPIPE_TARGET_AVX512_END _Pragma("GCC pop_options")
#endif
