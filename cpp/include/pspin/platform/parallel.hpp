// Thin OpenMP helpers. Work is always cut into tasks whose number depends on
// the problem only; threads pick tasks, so results never depend on threads.
#pragma once
#include <omp.h>

namespace pspin {

inline int max_threads() { return omp_get_max_threads(); }
inline void set_threads(int n) { omp_set_num_threads(n); }

// Below this much work (multiply-adds) a parallel region costs more than it saves
// (fork/join wake-up measured at 40-55 us on the target machine).
constexpr double kMinParallelWork = 2.0e5;

}  // namespace pspin
