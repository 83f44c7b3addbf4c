// What the core was compiled with, for show_config() and bug reports.
#pragma once
#include <string>

namespace pspin {

inline std::string compiler_description() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

inline std::string simd_extensions() {
  std::string s;
#if defined(__AVX512F__)
  s += "avx512f ";
#endif
#if defined(__AVX2__)
  s += "avx2 ";
#endif
#if defined(__FMA__)
  s += "fma ";
#endif
#if defined(__SSE2__)
  s += "sse2 ";
#endif
#if defined(__ARM_NEON)
  s += "neon ";
#endif
  if (!s.empty()) s.pop_back();
  return s;
}

}  // namespace pspin
