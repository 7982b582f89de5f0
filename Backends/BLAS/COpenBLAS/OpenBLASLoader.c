// Run-time binding of OpenBLAS: the four functions COpenBLAS.h declares, each a forwarder with the
// API's own name to the entry point dlsym resolves. The forwarders have hidden visibility, so they
// never leave this binary and cannot interpose on OpenBLAS's own symbols.

#define _GNU_SOURCE // dladdr
#include "COpenBLAS.h"

#include <dlfcn.h>
#include <stdio.h>

static void (*sgemm_entry)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint, blasint,
                           blasint, float, const float *, blasint, const float *, blasint, float, float *,
                           blasint);
static void (*set_num_threads_entry)(int);
static char *(*get_config_entry)(void);
static char *(*get_corename_entry)(void);

__attribute__((visibility("hidden"))) void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA,
                                                       enum CBLAS_TRANSPOSE transB, blasint m, blasint n,
                                                       blasint k, float alpha, const float *a, blasint lda,
                                                       const float *b, blasint ldb, float beta, float *c,
                                                       blasint ldc) {
    sgemm_entry(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

__attribute__((visibility("hidden"))) void openblas_set_num_threads(int threads) { set_num_threads_entry(threads); }

__attribute__((visibility("hidden"))) char *openblas_get_config(void) { return get_config_entry(); }

__attribute__((visibility("hidden"))) char *openblas_get_corename(void) { return get_corename_entry(); }

static int resolve(void *library, const char *name, void **entry, char *error, size_t capacity) {
    *entry = dlsym(library, name);
    if (!*entry) snprintf(error, capacity, "the OpenBLAS library has no %s (is it OpenBLAS?)", name);
    return *entry != NULL;
}

// `path`, or else the names the packages install: libopenblas.so.0 comes with the runtime packages
// (Debian/Ubuntu libopenblas0-pthread or -openmp, Fedora openblas), the bare name only with -dev
// ones. On failure the reason for the first name is reported: a missing file, or why a copy that is
// there would not load.
static void *open_library(const char *path, char *error, size_t capacity) {
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so"};
    void *library = dlopen(path ? path : names[0], RTLD_NOW | RTLD_LOCAL);
    if (library) return library;
    snprintf(error, capacity, "%s", dlerror());
    for (size_t i = 1; !path && i < sizeof names / sizeof names[0] && !library; i++) {
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    return library;
}

int gpt_openblas_load(const char *path, char *error, size_t capacity) {
    void *library = open_library(path, error, capacity);
    return library && resolve(library, "cblas_sgemm", (void **)&sgemm_entry, error, capacity) &&
           resolve(library, "openblas_set_num_threads", (void **)&set_num_threads_entry, error, capacity) &&
           resolve(library, "openblas_get_config", (void **)&get_config_entry, error, capacity) &&
           resolve(library, "openblas_get_corename", (void **)&get_corename_entry, error, capacity);
}

const char *gpt_openblas_path(void) {
    Dl_info info;
    if (!sgemm_entry || !dladdr(*(void **)&sgemm_entry, &info)) return NULL;
    return info.dli_fname;
}
