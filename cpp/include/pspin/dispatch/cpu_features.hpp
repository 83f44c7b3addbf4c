// Which of the compiled instruction-set levels this CPU (and its operating
// system) can run. This header is compiled without any -march flag, in the
// small module that picks a level before any kernel module is loaded: a
// kernel module built for a level the CPU lacks would die of an illegal
// instruction on import.
#pragma once
#include <string>
#include <vector>

namespace pspin {

// Levels this CPU can run, lowest first. x86-64: baseline (SSE2), v3 (AVX2,
// FMA, BMI1/2, F16C, MOVBE, LZCNT), v4 (v3 + AVX-512 F/BW/CD/DQ/VL), as the
// psABI defines them. __builtin_cpu_supports also checks that the operating
// system saves the wide registers (XGETBV), not only the CPUID bits.
inline std::vector<std::string> supported_simd_levels() {
  std::vector<std::string> levels{"baseline"};
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                  __builtin_cpu_supports("f16c") && __builtin_cpu_supports("movbe") &&
                  __builtin_cpu_supports("lzcnt");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
  if (v3) levels.push_back("v3");
  if (v4) levels.push_back("v4");
#endif
  return levels;
}

// The ISA extensions the kernels care about that this CPU has, space separated.
inline std::string cpu_simd_flags() {
  std::string s;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
#define PSPIN_CPU_FLAG(name) \
  if (__builtin_cpu_supports(name)) (s += name) += ' ';
  PSPIN_CPU_FLAG("sse2") PSPIN_CPU_FLAG("sse4.2") PSPIN_CPU_FLAG("avx") PSPIN_CPU_FLAG("avx2")
  PSPIN_CPU_FLAG("fma") PSPIN_CPU_FLAG("bmi2") PSPIN_CPU_FLAG("avx512f") PSPIN_CPU_FLAG("avx512bw")
  PSPIN_CPU_FLAG("avx512dq") PSPIN_CPU_FLAG("avx512vl")
#undef PSPIN_CPU_FLAG
#elif defined(__aarch64__)
  s = "neon ";
#endif
  if (!s.empty()) s.pop_back();
  return s;
}

}  // namespace pspin
