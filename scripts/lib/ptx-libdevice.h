// Included first by scripts/ptx-check when it compiles Kernels/*.cl for NVIDIA with clang + libclc.
//
// Why: NVIDIA's OpenCL compiler lowers exp, log, tanh, pow, ... to its libdevice (__nv_* functions),
// while libclc's nvptx library has portable software versions that use many more registers and
// instructions. Without this header the check would report register counts and loop mixes the
// driver never produces for exp/tanh-heavy kernels. Each OpenCL builtin below is redirected (by a
// macro of the same name) to an overloaded wrapper that calls libdevice per component; clang links
// libdevice.10.bc as builtin bitcode, so the calls inline like the driver's.

#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define PTXC_FN static inline __attribute__((overloadable, always_inline))

// One-argument builtin `name` -> __nv_<f>f (float) and __nv_<f> (double), for scalars and vectors.
#define PTXC_UNARY(name, nv)                                                                       \
    float __nv_##nv##f(float);                                                                     \
    double __nv_##nv(double);                                                                      \
    PTXC_FN float ptxc_##name(float x) { return __nv_##nv##f(x); }                                 \
    PTXC_FN double ptxc_##name(double x) { return __nv_##nv(x); }                                  \
    PTXC_FN float2 ptxc_##name(float2 x) { return (float2)(ptxc_##name(x.x), ptxc_##name(x.y)); }  \
    PTXC_FN float3 ptxc_##name(float3 x) {                                                         \
        return (float3)(ptxc_##name(x.x), ptxc_##name(x.y), ptxc_##name(x.z));                    \
    }                                                                                              \
    PTXC_FN float4 ptxc_##name(float4 x) { return (float4)(ptxc_##name(x.xy), ptxc_##name(x.zw)); } \
    PTXC_FN float8 ptxc_##name(float8 x) { return (float8)(ptxc_##name(x.lo), ptxc_##name(x.hi)); } \
    PTXC_FN float16 ptxc_##name(float16 x) { return (float16)(ptxc_##name(x.lo), ptxc_##name(x.hi)); }

// Two-argument builtin `name` -> __nv_<f>f / __nv_<f>.
#define PTXC_BINARY(name, nv)                                                                      \
    float __nv_##nv##f(float, float);                                                              \
    double __nv_##nv(double, double);                                                              \
    PTXC_FN float ptxc_##name(float x, float y) { return __nv_##nv##f(x, y); }                     \
    PTXC_FN double ptxc_##name(double x, double y) { return __nv_##nv(x, y); }                     \
    PTXC_FN float2 ptxc_##name(float2 x, float2 y) {                                               \
        return (float2)(ptxc_##name(x.x, y.x), ptxc_##name(x.y, y.y));                             \
    }                                                                                              \
    PTXC_FN float4 ptxc_##name(float4 x, float4 y) {                                               \
        return (float4)(ptxc_##name(x.xy, y.xy), ptxc_##name(x.zw, y.zw));                         \
    }

PTXC_UNARY(exp, exp)
PTXC_UNARY(exp2, exp2)
PTXC_UNARY(exp10, exp10)
PTXC_UNARY(expm1, expm1)
PTXC_UNARY(log, log)
PTXC_UNARY(log2, log2)
PTXC_UNARY(log10, log10)
PTXC_UNARY(log1p, log1p)
PTXC_UNARY(sin, sin)
PTXC_UNARY(cos, cos)
PTXC_UNARY(tan, tan)
PTXC_UNARY(sinh, sinh)
PTXC_UNARY(cosh, cosh)
PTXC_UNARY(tanh, tanh)
PTXC_UNARY(atan, atan)
PTXC_UNARY(erf, erf)
PTXC_UNARY(erfc, erfc)
PTXC_UNARY(cbrt, cbrt)
PTXC_BINARY(pow, pow)
PTXC_BINARY(powr, pow)
PTXC_BINARY(atan2, atan2)

void __nv_sincosf(float, float*, float*);
void __nv_sincos(double, double*, double*);
PTXC_FN float ptxc_sincos(float x, float* cosine) { float sine; __nv_sincosf(x, &sine, cosine); return sine; }
PTXC_FN double ptxc_sincos(double x, double* cosine) { double sine; __nv_sincos(x, &sine, cosine); return sine; }

#define exp ptxc_exp
#define exp2 ptxc_exp2
#define exp10 ptxc_exp10
#define expm1 ptxc_expm1
#define log ptxc_log
#define log2 ptxc_log2
#define log10 ptxc_log10
#define log1p ptxc_log1p
#define sin ptxc_sin
#define cos ptxc_cos
#define tan ptxc_tan
#define sinh ptxc_sinh
#define cosh ptxc_cosh
#define tanh ptxc_tanh
#define atan ptxc_atan
#define erf ptxc_erf
#define erfc ptxc_erfc
#define cbrt ptxc_cbrt
#define pow ptxc_pow
#define powr ptxc_powr
#define atan2 ptxc_atan2
#define sincos ptxc_sincos

// native_* builtins: NVIDIA's compiler emits the bare approximate instruction (flush-to-zero);
// libclc leaves an llvm.exp2 call that the NVPTX backend cannot lower.
PTXC_FN float ptxc_native_exp2(float x) { float y; __asm__("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
PTXC_FN float ptxc_native_log2(float x) { float y; __asm__("lg2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
PTXC_FN float ptxc_native_exp(float x) { return ptxc_native_exp2(x * 1.4426950408889634f); }
PTXC_FN float ptxc_native_log(float x) { return ptxc_native_log2(x) * 0.6931471805599453f; }
#define native_exp2 ptxc_native_exp2
#define native_log2 ptxc_native_log2
#define native_exp ptxc_native_exp
#define native_log ptxc_native_log
