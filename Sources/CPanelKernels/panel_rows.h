// Internal to CPanelKernels: the register kernels over one panel, shared by the Float32 panels
// (panel_matmul.c) and the block panels (block_panels.c), which expand a panel first.
#ifndef LLMREC_PANEL_ROWS_H
#define LLMREC_PANEL_ROWS_H
#include <stddef.h>
#include <stdint.h>

/// Store masks of panel p's two halves of 16 outputs: all ones except on the last panel of OC.
void llmrec_panel_masks(size_t OC, size_t p, uint16_t *m0, uint16_t *m1);

/// Rows per L2 block of inputs for C input channels (a multiple of 12).
size_t llmrec_panel_row_block(size_t C);

/// out rows [n0, n1) × the output channels of panel p = inp rows · panel (+ bias). AVX-512 only.
void llmrec_panel_rows(float *out, const float *inp, const float *panel, const float *bias, size_t n0, size_t n1,
                       size_t C, size_t OC, size_t p);

#endif
