// Matrix products against weights re-packed into column panels, for the decoder's inference
// path. A weight W (OC, C), row-major as in PyTorch, becomes ceil(OC/32) panels of (C, 32): panel
// p holds output channels 32p..32p+31, one row of 32 per input channel, zero-padded past OC.
// The product then streams each panel once, front to back, and keeps up to 12 input rows × 32
// outputs in registers: no per-call packing (which is what OpenBLAS spends most of a small
// product on), and each output's sum runs over the input channels in order, whatever the
// number of rows, so a row's result does not depend on what it is batched with.
#ifndef LLMREC_PANEL_MATMUL_H
#define LLMREC_PANEL_MATMUL_H
#include <stddef.h>

/// Output channels per panel.
#define LLMREC_PANEL_WIDTH 32

/// 1 when this CPU runs the AVX-512 kernel, else 0 (callers then use BLAS).
int llmrec_panel_kernel_available(void);

/// Floats in the packed form of a (OC, C) weight.
size_t llmrec_panel_floats(size_t OC, size_t C);

/// Packs weight (OC, C) into panels (llmrec_panel_floats(OC, C) floats).
void llmrec_pack_panels(float *panels, const float *weight, size_t OC, size_t C);

/// out (N, OC) = inp (N, C) · Wᵀ (+ bias), for the output channels of panels [panelBegin,
/// panelEnd). Only call when llmrec_panel_kernel_available().
void llmrec_panel_matmul(float *out, const float *inp, const float *panels, const float *bias,
                         size_t N, size_t C, size_t OC, size_t panelBegin, size_t panelEnd);

#endif
