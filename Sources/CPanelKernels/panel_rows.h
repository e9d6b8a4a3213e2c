// Internal to CPanelKernels: the register kernels over one panel, shared by the Float32 panels
// (panel_matmul.c) and the block panels (block_panels.c), which expand a panel first.
#ifndef LLMREC_PANEL_ROWS_H
#define LLMREC_PANEL_ROWS_H
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

// The parts of an R-row register kernel (R ≤ 12) over one panel of 32 outputs: accumulators
// lo[r], hi[r] for outputs 0–15 and 16–31 of row r. The kernels differ only in how they get a
// channel's 32 weights (w0, w1): loaded from Float32 panels, or expanded from GGUF blocks.

/// Declares the accumulators, starting at the bias (or zero) under the panel's masks.
#define PANEL_ROWS_BEGIN(R, bias, m0, m1)                                                   \
    __m512 lo[R], hi[R];                                                                   \
    {                                                                                      \
        __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();          \
        __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();     \
        for (int r = 0; r < R; r++) { lo[r] = b0; hi[r] = b1; }                            \
    }

/// Adds input channel c of each row (row stride C) times the channel's weights w0, w1.
#define PANEL_ROWS_FMA(R, inp, C, c, w0, w1)                                               \
    _Pragma("GCC unroll 12") for (int r = 0; r < R; r++) {                                 \
        __m512 x = _mm512_set1_ps(inp[r * C + c]);                                         \
        lo[r] = _mm512_fmadd_ps(x, w0, lo[r]);                                             \
        hi[r] = _mm512_fmadd_ps(x, w1, hi[r]);                                             \
    }

/// Stores the rows (row stride ldo), keeping inside OC on the last panel.
#define PANEL_ROWS_END(R, out, ldo, m0, m1)                                                \
    for (int r = 0; r < R; r++) {                                                          \
        _mm512_mask_storeu_ps(out + r * ldo, m0, lo[r]);                                   \
        _mm512_mask_storeu_ps(out + r * ldo + 16, m1, hi[r]);                              \
    }

/// Defines KERNEL(1) … KERNEL(12), functions named `name`_1 … `name`_12 of type fn_type, and
/// the table `name`[rows] of them (entry 0 unused).
#define PANEL_ROWS_TABLE(KERNEL, name, fn_type)                                            \
    KERNEL(1) KERNEL(2) KERNEL(3) KERNEL(4) KERNEL(5) KERNEL(6)                            \
    KERNEL(7) KERNEL(8) KERNEL(9) KERNEL(10) KERNEL(11) KERNEL(12)                         \
    static const fn_type name[13] = {                                                      \
        0, name##_1, name##_2, name##_3, name##_4, name##_5, name##_6,                     \
        name##_7, name##_8, name##_9, name##_10, name##_11, name##_12,                     \
    };

/// Store masks of panel p's two halves of 16 outputs: all ones except on the last panel of OC.
void llmrec_panel_masks(size_t OC, size_t p, uint16_t *m0, uint16_t *m1);

/// Rows per block whose inputs (C floats a row) fit in `bytes`: a multiple of 12, at least 12.
size_t llmrec_panel_row_block(size_t C, size_t bytes);

/// out rows [n0, n1) × the output channels of panel p = inp rows · panel (+ bias). AVX-512 only.
void llmrec_panel_rows(float *out, const float *inp, const float *panel, const float *bias, size_t n0, size_t n1,
                       size_t C, size_t OC, size_t p);

#endif
