// Run-time binding of the OpenCL ICD loader. Every OpenCL function the backend calls is listed once
// in OPENCL_FUNCTIONS; the list expands into a table of function pointers, the dlsym loop that fills
// it, and a forwarder with the API's own name and prototype, so the Swift code calls OpenCL exactly
// as if the library were linked. The forwarders have hidden visibility: they never leave this
// binary, so they cannot interpose on the real entry points inside libOpenCL or a vendor driver.
//
// Adding a call to a new OpenCL function from Swift means adding one line to the list (the link then
// fails until it is there, since nothing links libOpenCL).

#include "COpenCL.h"

#include <dlfcn.h>
#include <stdio.h>

// X(return type, name, parameter list, argument list)
#define OPENCL_FUNCTIONS(X)                                                                           \
    X(cl_int, clGetPlatformIDs, (cl_uint n, cl_platform_id *p, cl_uint *c), (n, p, c))               \
    X(cl_int, clGetPlatformInfo, (cl_platform_id p, cl_platform_info i, size_t s, void *v, size_t *r), \
      (p, i, s, v, r))                                                                                \
    X(cl_int, clGetDeviceIDs, (cl_platform_id p, cl_device_type t, cl_uint n, cl_device_id *d, cl_uint *c), \
      (p, t, n, d, c))                                                                                \
    X(cl_int, clGetDeviceInfo, (cl_device_id d, cl_device_info i, size_t s, void *v, size_t *r),      \
      (d, i, s, v, r))                                                                                \
    X(cl_context, clCreateContext,                                                                    \
      (const cl_context_properties *p, cl_uint n, const cl_device_id *d,                             \
       void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *), void *u, cl_int *e),    \
      (p, n, d, notify, u, e))                                                                        \
    X(cl_int, clReleaseContext, (cl_context c), (c))                                                  \
    X(cl_command_queue, clCreateCommandQueue,                                                         \
      (cl_context c, cl_device_id d, cl_command_queue_properties p, cl_int *e), (c, d, p, e))         \
    X(cl_int, clReleaseCommandQueue, (cl_command_queue q), (q))                                       \
    X(cl_mem, clCreateBuffer, (cl_context c, cl_mem_flags f, size_t s, void *h, cl_int *e), (c, f, s, h, e)) \
    X(cl_int, clReleaseMemObject, (cl_mem m), (m))                                                    \
    X(cl_program, clCreateProgramWithSource,                                                          \
      (cl_context c, cl_uint n, const char **s, const size_t *l, cl_int *e), (c, n, s, l, e))         \
    X(cl_program, clCreateProgramWithBinary,                                                          \
      (cl_context c, cl_uint n, const cl_device_id *d, const size_t *l, const unsigned char **b,      \
       cl_int *s, cl_int *e),                                                                         \
      (c, n, d, l, b, s, e))                                                                          \
    X(cl_int, clBuildProgram,                                                                         \
      (cl_program p, cl_uint n, const cl_device_id *d, const char *o,                                \
       void(CL_CALLBACK *notify)(cl_program, void *), void *u),                                       \
      (p, n, d, o, notify, u))                                                                        \
    X(cl_int, clGetProgramInfo, (cl_program p, cl_program_info i, size_t s, void *v, size_t *r),      \
      (p, i, s, v, r))                                                                                \
    X(cl_int, clGetProgramBuildInfo,                                                                  \
      (cl_program p, cl_device_id d, cl_program_build_info i, size_t s, void *v, size_t *r),          \
      (p, d, i, s, v, r))                                                                             \
    X(cl_int, clReleaseProgram, (cl_program p), (p))                                                  \
    X(cl_kernel, clCreateKernel, (cl_program p, const char *n, cl_int *e), (p, n, e))                 \
    X(cl_int, clReleaseKernel, (cl_kernel k), (k))                                                    \
    X(cl_int, clSetKernelArg, (cl_kernel k, cl_uint i, size_t s, const void *v), (k, i, s, v))        \
    X(cl_int, clEnqueueNDRangeKernel,                                                                 \
      (cl_command_queue q, cl_kernel k, cl_uint d, const size_t *o, const size_t *g, const size_t *l, \
       cl_uint n, const cl_event *w, cl_event *e),                                                    \
      (q, k, d, o, g, l, n, w, e))                                                                    \
    X(cl_int, clEnqueueWriteBuffer,                                                                   \
      (cl_command_queue q, cl_mem m, cl_bool b, size_t o, size_t s, const void *p, cl_uint n,         \
       const cl_event *w, cl_event *e),                                                               \
      (q, m, b, o, s, p, n, w, e))                                                                    \
    X(cl_int, clEnqueueReadBuffer,                                                                    \
      (cl_command_queue q, cl_mem m, cl_bool b, size_t o, size_t s, void *p, cl_uint n,               \
       const cl_event *w, cl_event *e),                                                               \
      (q, m, b, o, s, p, n, w, e))                                                                    \
    X(cl_int, clEnqueueFillBuffer,                                                                    \
      (cl_command_queue q, cl_mem m, const void *p, size_t ps, size_t o, size_t s, cl_uint n,         \
       const cl_event *w, cl_event *e),                                                               \
      (q, m, p, ps, o, s, n, w, e))                                                                   \
    X(cl_int, clEnqueueCopyBuffer,                                                                    \
      (cl_command_queue q, cl_mem from, cl_mem to, size_t fo, size_t to_offset, size_t s, cl_uint n,  \
       const cl_event *w, cl_event *e),                                                               \
      (q, from, to, fo, to_offset, s, n, w, e))                                                       \
    X(cl_int, clFinish, (cl_command_queue q), (q))                                                    \
    X(cl_int, clWaitForEvents, (cl_uint n, const cl_event *e), (n, e))                                \
    X(cl_int, clReleaseEvent, (cl_event e), (e))                                                      \
    X(cl_int, clGetEventProfilingInfo, (cl_event e, cl_profiling_info i, size_t s, void *v, size_t *r), \
      (e, i, s, v, r))

// The table of resolved entry points.
#define DECLARE_POINTER(ret, name, params, args) static ret(CL_API_CALL *name##_entry) params;
OPENCL_FUNCTIONS(DECLARE_POINTER)

// The forwarders the Swift code calls.
#define DEFINE_FORWARDER(ret, name, params, args) \
    __attribute__((visibility("hidden"))) ret CL_API_CALL name params { return name##_entry args; }
OPENCL_FUNCTIONS(DEFINE_FORWARDER)

// `path`, or else the names the packages install: libOpenCL.so.1 comes with the ICD loader package
// (ocl-icd-libopencl1), the bare name only with the -dev one. On failure the reason for the first
// name is reported: a missing file, or why a copy that is there would not load.
static void *open_library(const char *path, char *error, size_t capacity) {
    static const char *const names[] = {"libOpenCL.so.1", "libOpenCL.so"};
    void *library = dlopen(path ? path : names[0], RTLD_NOW | RTLD_LOCAL);
    if (library) return library;
    snprintf(error, capacity, "%s", dlerror());
    for (size_t i = 1; !path && i < sizeof names / sizeof names[0] && !library; i++) {
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    return library;
}

int gpt_opencl_load(const char *path, char *error, size_t capacity) {
    void *library = open_library(path, error, capacity);
    if (!library) return 0;
#define RESOLVE(ret, name, params, args)                                                             \
    *(void **)(&name##_entry) = dlsym(library, #name);                                               \
    if (!name##_entry) {                                                                             \
        snprintf(error, capacity, "the OpenCL library has no %s (an OpenCL 1.2 loader is needed)", #name); \
        return 0;                                                                                    \
    }
    OPENCL_FUNCTIONS(RESOLVE)
    return 1;
}
