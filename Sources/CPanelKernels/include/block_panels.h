// Panels that keep a GGUF weight in its quantised blocks. A Q4_1 or Q8_0 weight stores 32
// input channels per block with a half-precision scale (and minimum); the Float32 weight the
// model computes with is q·d + m (or q·d). Packed the panel way (32 output channels together),
// with the scales widened to floats, the weight takes 0.75 (Q4_1) or 1.125 (Q8_0) bytes per
// value instead of 4, and the product expands each panel into Float32 just before using it.
// The expanded values are bit-identical to the dequantised weight, so the product is too:
// a decoding pass reads 5× fewer bytes of weights for the same result.
#ifndef LLMREC_BLOCK_PANELS_H
#define LLMREC_BLOCK_PANELS_H
#include <stddef.h>
#include <stdint.h>

typedef enum { LLMREC_Q4_1 = 0, LLMREC_Q8_0 = 1 } llmrec_block_code;

/// Bytes of one GGUF block of 32 values: 20 for Q4_1, 34 for Q8_0.
size_t llmrec_block_source_bytes(llmrec_block_code code);

/// Bytes of the packed form of a (OC, C) weight; C must be a multiple of 32.
size_t llmrec_block_panels_bytes(llmrec_block_code code, size_t OC, size_t C);

/// Packs OC rows, each given as a pointer to its C/32 GGUF blocks, into `dst`
/// (llmrec_block_panels_bytes bytes).
void llmrec_pack_block_panels(uint8_t *dst, llmrec_block_code code, const uint8_t *const *rows, size_t OC, size_t C);

/// Expands the packed weight into Float32 panels (llmrec_panel_floats(OC, C) floats), for tests.
/// Only call when llmrec_panel_kernel_available().
void llmrec_unpack_block_panels(float *panels, const uint8_t *packed, llmrec_block_code code, size_t OC, size_t C);

/// Bytes of one packed panel (32 output channels × C inputs).
size_t llmrec_block_panel_bytes(llmrec_block_code code, size_t C);

/// Expands one packed panel into a bf16 panel (bf16_panels.h's layout, C/2 channel pairs): each
/// value is the dequantised weight rounded to bf16 as llmrec_bf16_round does. `vector` 1 uses
/// AVX512-BF16 (which must be available), 0 portable C; both give the same values.
void llmrec_expand_block_panel_bf16(uint16_t *dst, const uint8_t *panel, llmrec_block_code code, size_t C, int vector);

/// As llmrec_panel_matmul, on a packed block weight. Only call when llmrec_panel_kernel_available().
void llmrec_block_panel_matmul(float *out, const float *inp, const uint8_t *packed, llmrec_block_code code,
                               const float *bias, size_t N, size_t C, size_t OC, size_t panelBegin, size_t panelEnd);

#endif
