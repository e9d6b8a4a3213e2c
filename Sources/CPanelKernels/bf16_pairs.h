// Internal to CPanelKernels: pairing two channels' values as bf16, the way bf16 panels and
// rounded inputs hold them (bf16_panels.h), shared by bf16_panels.c and block_panels.c.
#ifndef LLMREC_BF16_PAIRS_H
#define LLMREC_BF16_PAIRS_H
#include <immintrin.h>
#include <stdint.h>

/// 16 pairs (x[i], y[i]) as 16 32-bit words, each rounded to bf16 (nearest even, subnormals to
/// zero), x in the low half of each.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static inline __m512i llmrec_pair_words(__m512 x, __m512 y) {
    static const uint16_t order[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    __m512i both = (__m512i)_mm512_cvtne2ps_pbh(y, x);  // values 0–15: x, 16–31: y
    return _mm512_permutexvar_epi16(_mm512_loadu_si512(order), both);
}

#endif
