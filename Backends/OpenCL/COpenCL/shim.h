// The OpenCL ICD loader (Debian: ocl-icd-opencl-dev, opencl-headers). OpenCL 1.2 API only, so the
// backend runs on every OpenCL 1.2 device (NVIDIA, AMD, Intel, PoCL).
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
