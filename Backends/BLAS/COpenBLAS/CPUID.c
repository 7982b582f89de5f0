// CPUID and XGETBV for CPUID.h.
#include "CPUID.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

void gpt_cpuid(unsigned leaf, unsigned subleaf, unsigned registers[4]) {
    registers[0] = registers[1] = registers[2] = registers[3] = 0;
    // __get_cpuid_count checks the leaf against the maximum the CPU supports (basic or extended).
    __get_cpuid_count(leaf, subleaf, &registers[0], &registers[1], &registers[2], &registers[3]);
}

unsigned long long gpt_xcr0(void) {
    unsigned registers[4];
    gpt_cpuid(1, 0, registers);
    if (!(registers[2] & (1u << 27))) return 0; // OSXSAVE: the OS enabled XGETBV
    unsigned low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return ((unsigned long long)high << 32) | low;
}
#else
void gpt_cpuid(unsigned leaf, unsigned subleaf, unsigned registers[4]) {
    (void)leaf;
    (void)subleaf;
    registers[0] = registers[1] = registers[2] = registers[3] = 0;
}

unsigned long long gpt_xcr0(void) { return 0; }
#endif
