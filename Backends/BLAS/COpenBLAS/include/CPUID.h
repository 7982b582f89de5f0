// The x86 CPUID and XGETBV instructions, for choosing OpenBLAS's kernel family (Swift has no inline
// assembly). On other architectures both report nothing.
#ifndef GPT_CPUID_H
#define GPT_CPUID_H

/// Registers EAX, EBX, ECX, EDX of CPUID(leaf, subleaf) into `registers`; all zero when the leaf is
/// above the CPU's maximum or the machine is not x86.
void gpt_cpuid(unsigned leaf, unsigned subleaf, unsigned registers[4]);

/// XCR0 (which register states the OS saves on context switches), or 0 when the CPU has no XGETBV
/// (CPUID.1:ECX.OSXSAVE clear) or the machine is not x86.
unsigned long long gpt_xcr0(void);

#endif
