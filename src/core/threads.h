// Threading: one OpenMP runtime shared by our kernels and OpenBLAS (its OpenMP build), so the
// two never oversubscribe the cores. set_num_threads() sets both (from -t, else the environment);
// check_blas_backend() verifies at start-up that the OpenMP build of OpenBLAS is the one loaded.
#pragma once

#include <string>

namespace tuna {

// The most threads tuna accepts from -t or the environment: max(1024, hardware threads).
int max_thread_count();

int num_threads();
// n > 0: n threads; n == 0: $TUNA_NUM_THREADS, else $OMP_NUM_THREADS (its first entry), else all
// hardware threads (an empty variable counts as unset; 0 in TUNA_NUM_THREADS means all cores).
// User errors, naming the flag or variable and the range: n < 0 or n > max_thread_count(); a
// variable that is not a whole number in range.
void set_num_threads(int n);
// Throws an internal error if the loaded OpenBLAS is not the OpenMP build.
void check_blas_backend();
std::string blas_description();  // "OpenBLAS 0.3.21 (OpenMP) ..."

}  // namespace tuna
