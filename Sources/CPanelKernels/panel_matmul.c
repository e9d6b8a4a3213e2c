// The AVX-512 panel product (see panel_matmul.h). Compiled for the baseline target; only the
// kernel functions carry target("avx512f"), and they run only after a run-time CPU check.
#include "panel_matmul.h"
#include "panel_rows.h"
#include <immintrin.h>
#include <string.h>

#define W LLMREC_PANEL_WIDTH

int llmrec_panel_kernel_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

size_t llmrec_panel_floats(size_t OC, size_t C) { return (OC + W - 1) / W * W * C; }

void llmrec_pack_panels(float *panels, const float *weight, size_t OC, size_t C) {
    size_t count = (OC + W - 1) / W;
    for (size_t p = 0; p < count; p++) {
        float *dst = panels + p * C * W;
        for (size_t o = 0; o < W; o++) {
            size_t oc = p * W + o;
            if (oc < OC) {
                const float *src = weight + oc * C;
                for (size_t c = 0; c < C; c++) dst[c * W + o] = src[c];
            } else {
                for (size_t c = 0; c < C; c++) dst[c * W + o] = 0;
            }
        }
    }
}

// R rows (R ≤ 12) × one panel: 2R accumulators, two panel loads and R broadcasts per input
// channel. `mask` keeps the stores inside OC on the last panel.
#define PANEL_ROWS(R)                                                                                    \
    __attribute__((target("avx512f"))) static void panel_rows_##R(                                    \
        float *out, size_t ldo, const float *inp, size_t C, const float *panel, const float *bias,    \
        __mmask16 m0, __mmask16 m1) {                                                                  \
        PANEL_ROWS_BEGIN(R, bias, m0, m1)                                                              \
        for (size_t c = 0; c < C; c++) {                                                               \
            __m512 w0 = _mm512_loadu_ps(panel + c * W), w1 = _mm512_loadu_ps(panel + c * W + 16);      \
            PANEL_ROWS_FMA(R, inp, C, c, w0, w1)                                                       \
        }                                                                                              \
        PANEL_ROWS_END(R, out, ldo, m0, m1)                                                            \
    }

typedef void (*panel_rows_fn)(float *, size_t, const float *, size_t, const float *, const float *, __mmask16, __mmask16);
PANEL_ROWS_TABLE(PANEL_ROWS, panel_rows, panel_rows_fn)

void llmrec_panel_masks(size_t OC, size_t p, uint16_t *m0, uint16_t *m1) {
    size_t width = OC - p * W < W ? OC - p * W : W;
    *m0 = width >= 16 ? 0xFFFF : (uint16_t)((1u << width) - 1);
    *m1 = width <= 16 ? 0 : width >= 32 ? 0xFFFF : (uint16_t)((1u << (width - 16)) - 1);
}

size_t llmrec_panel_row_block(size_t C, size_t bytes) {
    size_t block = bytes / (C * sizeof(float)) / 12 * 12;
    return block < 12 ? 12 : block;
}

__attribute__((target("avx512f")))
void llmrec_panel_rows(float *out, const float *inp, const float *panel, const float *bias, size_t n0, size_t n1,
                       size_t C, size_t OC, size_t p) {
    size_t first = p * W;
    uint16_t m0, m1;
    llmrec_panel_masks(OC, p, &m0, &m1);
    for (size_t n = n0; n < n1; n += 12) {
        size_t rows = n1 - n < 12 ? n1 - n : 12;
        panel_rows[rows](out + n * OC + first, OC, inp + n * C, C, panel, bias ? bias + first : 0, m0, m1);
    }
}

__attribute__((target("avx512f")))
void llmrec_panel_matmul(float *out, const float *inp, const float *panels, const float *bias,
                         size_t N, size_t C, size_t OC, size_t panelBegin, size_t panelEnd) {
    // Rows in blocks whose inputs stay in L2 (about 256 KB) while the panels pass over them; within
    // a block, each panel (C × 32 floats) stays in L1/L2 while every 12 rows use it.
    size_t block = llmrec_panel_row_block(C, 256 * 1024);
    for (size_t n0 = 0; n0 < N; n0 += block) {
        size_t n1 = N - n0 < block ? N : n0 + block;
        for (size_t p = panelBegin; p < panelEnd; p++) llmrec_panel_rows(out, inp, panels + p * C * W, bias, n0, n1, C, OC, p);
    }
}
