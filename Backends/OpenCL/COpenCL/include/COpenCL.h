// The OpenCL 1.2 API for the OpenCL backend, without linking the ICD loader: the header gives the
// types, constants and prototypes (Debian: opencl-headers), and OpenCLLoader.c defines each function
// the backend calls as a forwarder to the entry point it resolves from libOpenCL.so.1 at run time.
// The `gpt` binary then starts on machines without OpenCL; only this backend becomes unavailable.
#ifndef GPT_COPENCL_H
#define GPT_COPENCL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>

/// Opens the ICD loader (`path`, or libOpenCL.so.1 when NULL) and resolves every function the
/// backend calls. Returns 1 on success; otherwise 0 with a one-line reason in `error` (`capacity`
/// bytes). Call it once before any other OpenCL function (the Swift side does, behind a lazy global).
int gpt_opencl_load(const char *path, char *error, size_t capacity);

#endif
