// Thread count and BLAS backend check. See threads.h.
#include "core/threads.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <thread>

#include "core/error.h"
#include "core/message.h"

namespace tuna {

namespace {

int hardware_threads() {
  const int n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

// The thread count an environment variable sets: nullopt when unset or empty; `zero_ok`: 0 means
// "all cores" (TUNA_NUM_THREADS) rather than an error (OMP_NUM_THREADS, as OpenMP reads it).
// OMP_NUM_THREADS may be a nesting list ("4,2"); its first entry is the count.
std::optional<int> env_thread_count(const char* name, bool zero_ok) {
  const char* env = std::getenv(name);
  if (env == nullptr || *env == '\0') return std::nullopt;
  std::string text = env;
  if (!zero_ok) text = text.substr(0, text.find(','));
  size_t used = 0;
  long long n = -1;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const int low = zero_ok ? 0 : 1;
  if (used == 0 || used != text.size() || n < low || n > max_thread_count())
    throw_user_error("threads",
                     std::string("$") + name + "=" + quote(env) + " is not a thread count from " +
                         std::to_string(low) + " to " + std::to_string(max_thread_count()),
                     std::string("set it to a whole number, e.g. ") + name + "=4" +
                         (zero_ok ? " (0: all cores)" : "") + ", or unset it");
  return static_cast<int>(n);
}

}  // namespace

int max_thread_count() {
  return std::max(1024, hardware_threads());
}

int num_threads() {
  return omp_get_max_threads();
}

void set_num_threads(int n) {
  if (n < 0 || n > max_thread_count())
    throw_user_error("threads",
                     "-t/--threads " + std::to_string(n) + " is out of range 0 to " +
                         std::to_string(max_thread_count()),
                     "pass a number of threads, e.g. -t 4, or 0 for all cores");
  // Both variables are checked whenever they are set, so a mistake never hides.
  const std::optional<int> tuna_env = env_thread_count("TUNA_NUM_THREADS", true);
  const std::optional<int> omp_env = env_thread_count("OMP_NUM_THREADS", false);
  if (n == 0) n = tuna_env.value_or(0);
  if (n == 0 && !(tuna_env && *tuna_env == 0)) n = omp_env.value_or(0);
  if (n == 0) n = hardware_threads();
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
