// The part of OpenBLAS the BLAS backend calls, bound at run time instead of linked: OpenBLASLoader.c
// opens libopenblas.so.0 with dlopen and defines each function below as a forwarder to the entry
// point it resolves. The declarations are the CBLAS/OpenBLAS ones (blasint is 32-bit in the
// distributions' libopenblas.so.0), written here so the build needs no OpenBLAS headers.
#ifndef GPT_COPENBLAS_H
#define GPT_COPENBLAS_H

#include <stddef.h>

#include "CPUID.h" // the features that decide the kernel family

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };
typedef int blasint;

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                 blasint m, blasint n, blasint k, float alpha, const float *a, blasint lda,
                 const float *b, blasint ldb, float beta, float *c, blasint ldc);
void openblas_set_num_threads(int threads);
/// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
char *openblas_get_config(void);
/// The kernel family in use, e.g. "Cooperlake" (with DYNAMIC_ARCH: the one chosen at load time).
char *openblas_get_corename(void);

/// Opens OpenBLAS (`path`, or libopenblas.so.0 when NULL) and resolves the functions above. Returns
/// 1 on success; otherwise 0 with a one-line reason in `error` (`capacity` bytes). OpenBLAS picks its
/// kernels while it loads, from OPENBLAS_CORETYPE if set: set that first. Call once, before any
/// other function here.
int gpt_openblas_load(const char *path, char *error, size_t capacity);

/// The file the loaded library came from (e.g. /usr/lib/x86_64-linux-gnu/openblas-pthread/
/// libopenblas.so.0), or NULL before a successful load.
const char *gpt_openblas_path(void);

#endif
