// Panels kept in GGUF's quantised blocks (see block_panels.h). The products run the Float32
// panels' register kernels (panel_rows.h) on a panel expanded into per-thread scratch, except a
// single block of up to 12 rows on Q4_1, which expands in registers (q4_rows).
#include "block_panels.h"
#include "panel_matmul.h"
#include "panel_rows.h"
#include "bf16_pairs.h"
#include "bf16_panels.h"
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define W LLMREC_PANEL_WIDTH
#define BLOCK 32  // input channels per GGUF block (Q4_1, Q8_0)

// IEEE half to float, exact for every value (subnormals included).
static float half_to_float(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | p[1] << 8);
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0x1F) bits = sign | 0x7F800000 | man << 13;
    else if (exp != 0) bits = sign | (exp + 112) << 23 | man << 13;
    else if (man == 0) bits = sign;
    else {  // subnormal: normalise
        exp = 113;
        while (!(man & 0x400)) { man <<= 1; exp--; }
        bits = sign | exp << 23 | (man & 0x3FF) << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

size_t llmrec_block_source_bytes(llmrec_block_code code) { return code == LLMREC_Q4_1 ? 20 : 34; }

// One packed block: 32 channels of a panel's 32 outputs. The outputs' 32 scales (and 32
// minimums) as floats, then the codes: for Q4_1, 16 bytes per channel (output o < 16 in the low
// nibble of byte o, output o + 16 in its high nibble); for Q8_0, 32 int8 per channel.
static size_t packed_block_bytes(llmrec_block_code code) { return code == LLMREC_Q4_1 ? 2 * W * 4 + BLOCK * W / 2 : W * 4 + BLOCK * W; }

static size_t packed_panel_bytes(llmrec_block_code code, size_t C) { return C / BLOCK * packed_block_bytes(code); }

size_t llmrec_block_panel_bytes(llmrec_block_code code, size_t C) { return packed_panel_bytes(code, C); }

size_t llmrec_block_panels_bytes(llmrec_block_code code, size_t OC, size_t C) {
    return (OC + W - 1) / W * packed_panel_bytes(code, C);
}

void llmrec_pack_block_panels(uint8_t *dst, llmrec_block_code code, const uint8_t *const *rows, size_t OC, size_t C) {
    size_t blocks = C / BLOCK, srcBytes = llmrec_block_source_bytes(code), panelBytes = packed_panel_bytes(code, C);
    memset(dst, 0, llmrec_block_panels_bytes(code, OC, C));
    for (size_t p = 0; p * W < OC; p++) {
        uint8_t *panel = dst + p * panelBytes;
        for (size_t b = 0; b < blocks; b++) {
            uint8_t *blk = panel + b * packed_block_bytes(code);
            float *d = (float *)blk;
            for (size_t o = 0; o < W && p * W + o < OC; o++) {
                const uint8_t *src = rows[p * W + o] + b * srcBytes;
                d[o] = half_to_float(src);
                if (code == LLMREC_Q4_1) {
                    ((float *)blk)[W + o] = half_to_float(src + 2);
                    uint8_t *codes = blk + 2 * W * 4;
                    for (size_t c = 0; c < BLOCK; c++) {
                        uint8_t q = c < 16 ? src[4 + c] & 0x0F : src[4 + c - 16] >> 4;
                        codes[c * 16 + o % 16] |= (uint8_t)(o < 16 ? q : q << 4);
                    }
                } else {
                    int8_t *codes = (int8_t *)(blk + W * 4);
                    for (size_t c = 0; c < BLOCK; c++) codes[c * W + o] = (int8_t)src[2 + c];
                }
            }
        }
    }
}

// Channel c's 32 weights of a Q4_1 block (scales d, minimums m for outputs 0–15 and 16–31).
__attribute__((target("avx512f"))) static inline void q4_channel(const uint8_t *codes, size_t c, __m512 d0, __m512 d1,
                                                                 __m512 m0, __m512 m1, __m512 *w0, __m512 *w1) {
    __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(codes + c * 16)));
    __m512i low = _mm512_set1_epi32(0x0F);
    *w0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, low)), d0, m0);
    *w1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), d1, m1);
}

// Expands one panel into Float32 panel layout (C × 32). Each weight comes out as GGUF's
// dequantisation computes it: q·d + m (Q4_1) or q·d (Q8_0), where q·d is exact in Float32
// (a 4- or 8-bit integer times a half), so the fused multiply-add rounds exactly once, as the
// separate multiply and add do.
__attribute__((target("avx512f"))) static void expand_panel(float *out, const uint8_t *panel, llmrec_block_code code, size_t C) {
    for (size_t b = 0; b < C / BLOCK; b++) {
        const uint8_t *blk = panel + b * packed_block_bytes(code);
        const float *d = (const float *)blk;
        __m512 d0 = _mm512_loadu_ps(d), d1 = _mm512_loadu_ps(d + 16);
        float *o = out + b * BLOCK * W;
        if (code == LLMREC_Q4_1) {
            __m512 m0 = _mm512_loadu_ps(d + W), m1 = _mm512_loadu_ps(d + W + 16);
            for (size_t c = 0; c < BLOCK; c++) {
                __m512 w0, w1;
                q4_channel(blk + 2 * W * 4, c, d0, d1, m0, m1, &w0, &w1);
                _mm512_storeu_ps(o + c * W, w0);
                _mm512_storeu_ps(o + c * W + 16, w1);
            }
        } else {
            const int8_t *codes = (const int8_t *)(blk + W * 4);
            for (size_t c = 0; c < BLOCK; c++) {
                __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + c * W))));
                __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + c * W + 16))));
                _mm512_storeu_ps(o + c * W, _mm512_mul_ps(q0, d0));
                _mm512_storeu_ps(o + c * W + 16, _mm512_mul_ps(q1, d1));
            }
        }
    }
}

// Channel c's 32 weights of a Q8_0 block (scales d for outputs 0–15 and 16–31).
__attribute__((target("avx512f"))) static inline void q8_channel(const int8_t *codes, size_t c, __m512 d0, __m512 d1, __m512 *w0, __m512 *w1) {
    *w0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + c * W)))), d0);
    *w1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + c * W + 16)))), d1);
}

// The bf16 expansion, 32 channels' pairs at a time: each channel's weights as expand_panel
// computes them, then two channels paired and rounded in registers.
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void expand_panel_bf16_vector(uint16_t *dst, const uint8_t *panel, llmrec_block_code code, size_t C) {
    for (size_t b = 0; b < C / BLOCK; b++) {
        const uint8_t *blk = panel + b * packed_block_bytes(code);
        const float *d = (const float *)blk;
        __m512 d0 = _mm512_loadu_ps(d), d1 = _mm512_loadu_ps(d + 16);
        __m512 m0 = _mm512_setzero_ps(), m1 = m0;
        if (code == LLMREC_Q4_1) m0 = _mm512_loadu_ps(d + W), m1 = _mm512_loadu_ps(d + W + 16);
        for (size_t c = 0; c < BLOCK; c += 2) {
            __m512 x0, x1, y0, y1;
            if (code == LLMREC_Q4_1) {
                q4_channel(blk + 2 * W * 4, c, d0, d1, m0, m1, &x0, &x1);
                q4_channel(blk + 2 * W * 4, c + 1, d0, d1, m0, m1, &y0, &y1);
            } else {
                q8_channel((const int8_t *)(blk + W * 4), c, d0, d1, &x0, &x1);
                q8_channel((const int8_t *)(blk + W * 4), c + 1, d0, d1, &y0, &y1);
            }
            uint16_t *pair = dst + (b * BLOCK + c) / 2 * 2 * W;
            _mm512_storeu_si512(pair, llmrec_pair_words(x0, y0));
            _mm512_storeu_si512(pair + W, llmrec_pair_words(x1, y1));
        }
    }
}

void llmrec_expand_block_panel_bf16(uint16_t *dst, const uint8_t *panel, llmrec_block_code code, size_t C, int vector) {
    if (vector) {
        expand_panel_bf16_vector(dst, panel, code, C);
        return;
    }
    for (size_t b = 0; b < C / BLOCK; b++) {
        const uint8_t *blk = panel + b * packed_block_bytes(code);
        const float *d = (const float *)blk;
        for (size_t c = 0; c < BLOCK; c++) {
            for (size_t o = 0; o < W; o++) {
                float w;
                if (code == LLMREC_Q4_1) {
                    uint8_t byte = blk[2 * W * 4 + c * 16 + o % 16];
                    w = (float)(o < 16 ? byte & 0x0F : byte >> 4) * d[o] + d[W + o];
                } else {
                    w = (float)((const int8_t *)(blk + W * 4))[c * W + o] * d[o];
                }
                size_t channel = b * BLOCK + c;
                dst[channel / 2 * 2 * W + o / 16 * W + o % 16 * 2 + channel % 2] = llmrec_bf16_round(w);
            }
        }
    }
}

// R rows (R ≤ 12) × one Q4_1 panel, expanding each channel's 32 weights in registers where the
// Float32 kernel loads them.
#define Q4_ROWS(R)                                                                                       \
    __attribute__((target("avx512f"))) static void q4_rows_##R(                                       \
        float *out, size_t ldo, const float *inp, size_t C, const uint8_t *panel, const float *bias,   \
        __mmask16 m0, __mmask16 m1) {                                                                  \
        PANEL_ROWS_BEGIN(R, bias, m0, m1)                                                              \
        for (size_t b = 0; b < C / BLOCK; b++) {                                                       \
            const uint8_t *blk = panel + b * packed_block_bytes(LLMREC_Q4_1);                          \
            const float *d = (const float *)blk;                                                       \
            __m512 d0 = _mm512_loadu_ps(d), d1 = _mm512_loadu_ps(d + 16);                              \
            __m512 mn0 = _mm512_loadu_ps(d + W), mn1 = _mm512_loadu_ps(d + W + 16);                    \
            for (size_t cc = 0; cc < BLOCK; cc++) {                                                    \
                __m512 w0, w1;                                                                         \
                q4_channel(blk + 2 * W * 4, cc, d0, d1, mn0, mn1, &w0, &w1);                           \
                PANEL_ROWS_FMA(R, inp, C, b * BLOCK + cc, w0, w1)                                      \
            }                                                                                          \
        }                                                                                              \
        PANEL_ROWS_END(R, out, ldo, m0, m1)                                                            \
    }

typedef void (*q4_rows_fn)(float *, size_t, const float *, size_t, const uint8_t *, const float *, __mmask16, __mmask16);
PANEL_ROWS_TABLE(Q4_ROWS, q4_rows, q4_rows_fn)

void llmrec_unpack_block_panels(float *panels, const uint8_t *packed, llmrec_block_code code, size_t OC, size_t C) {
    size_t panelBytes = packed_panel_bytes(code, C);
    for (size_t p = 0; p * W < OC; p++) expand_panel(panels + p * C * W, packed + p * panelBytes, code, C);
}

// One expanded panel per thread, grown as needed and kept for the thread's life.
static _Thread_local float *scratch;
static _Thread_local size_t scratchFloats;

__attribute__((target("avx512f")))
void llmrec_block_panel_matmul(float *out, const float *inp, const uint8_t *packed, llmrec_block_code code,
                               const float *bias, size_t N, size_t C, size_t OC, size_t panelBegin, size_t panelEnd) {
    if (scratchFloats < C * W) {
        free(scratch);
        scratch = aligned_alloc(64, C * W * sizeof(float));
        scratchFloats = scratch ? C * W : 0;
        if (!scratch) abort();
    }
    size_t panelBytes = packed_panel_bytes(code, C);
    // Each panel is expanded once per block of rows, so blocks are twice the Float32 kernel's:
    // inputs of up to 512 KB, which still fit L2 beside the expanded panel.
    size_t block = llmrec_panel_row_block(C, 512 * 1024);
    for (size_t n0 = 0; n0 < N; n0 += block) {
        size_t n1 = N - n0 < block ? N : n0 + block;
        for (size_t p = panelBegin; p < panelEnd; p++) {
            if (code == LLMREC_Q4_1 && n1 - n0 <= 12) {
                // One register block: expanding in registers beats a round trip through scratch
                // (10 rows: ~145 against ~125 GFLOPS on Zen 4, measured while developing it);
                // with more rows the expansion would repeat per 12 rows, and 12 rows leave no
                // registers for it.
                size_t first = p * W;
                uint16_t m0, m1;
                llmrec_panel_masks(OC, p, &m0, &m1);
                q4_rows[n1 - n0](out + n0 * OC + first, OC, inp + n0 * C, C, packed + p * panelBytes, bias ? bias + first : 0, m0, m1);
                continue;
            }
            expand_panel(scratch, packed + p * panelBytes, code, C);
            llmrec_panel_rows(out, inp, scratch, bias, n0, n1, C, OC, p);
        }
    }
}
