// Thread count and BLAS backend check. See threads.h.
#include "core/threads.h"

#include <cblas.h>
#include <omp.h>

#include <cstdlib>
#include <thread>

#include "core/error.h"

namespace tuna {

int num_threads() {
  return omp_get_max_threads();
}

void set_num_threads(int n) {
  if (n <= 0) {
    const char* env = std::getenv("TUNA_NUM_THREADS");
    n = env != nullptr ? std::atoi(env) : 0;
    if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
  }
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

void check_blas_backend() {
  // openblas_get_parallel(): 0 sequential, 1 pthreads, 2 OpenMP.
  if (openblas_get_parallel() != 2) {
    throw_internal_error("blas", "the loaded OpenBLAS is not the OpenMP build (" +
                                     blas_description() + "); reinstall libopenblas-openmp-dev");
  }
}

std::string blas_description() {
  std::string s = openblas_get_config();
  int par = openblas_get_parallel();
  s += par == 2 ? " (OpenMP)" : par == 1 ? " (pthreads)" : " (sequential)";
  return s;
}

}  // namespace tuna
