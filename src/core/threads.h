// Threading: one OpenMP runtime shared by our kernels and OpenBLAS (its OpenMP build), so the
// two never oversubscribe the cores. set_num_threads() sets both; check_blas_backend() verifies
// at start-up that the OpenMP build of OpenBLAS is the one loaded.
#pragma once

#include <string>

namespace tuna {

int num_threads();
void set_num_threads(int n);  // n <= 0: use all hardware threads (or $TUNA_NUM_THREADS)
// Throws an internal error if the loaded OpenBLAS is not the OpenMP build.
void check_blas_backend();
std::string blas_description();  // "OpenBLAS 0.3.21 (OpenMP) ..."

}  // namespace tuna
