// A spin-wait hint (x86 `pause`), for threads that poll a flag for a few microseconds.
#ifndef LLMREC_CPU_RELAX_H
#define LLMREC_CPU_RELAX_H

static inline void llmrec_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
