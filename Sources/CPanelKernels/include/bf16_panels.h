// Panels of bfloat16 weights, for inference in bf16: the products take bf16 weights and bf16
// activations (each input rounded to nearest even at the product's input) and accumulate in
// Float32. Three kernels compute the same products:
//   AMX (Intel since Sapphire Rapids): `tdpbf16ps` multiplies a 16 × 32 tile of inputs by a
//     32 × 16 tile of weights into 16 × 16 Float32 sums, 16 times an AVX-512 FMA's work;
//   AVX512-BF16 (AMD Zen 4, Intel Cooper Lake on): `vdpbf16ps` multiplies a pair of bf16 values
//     per Float32 lane and adds both products (twice an fp32 FMA's multiply-adds where the
//     CPU issues it at FMA rate, as Zen 4 does);
//   a portable loop, on any CPU.
//
// Layout: a weight W (OC, C) becomes ceil(OC/32) panels; panel p holds output channels
// 32p..32p+31 as llmrec_bf16_panel_pairs(C) channel pairs of 64 values: outputs 0–15, each as
// (channel 2k, channel 2k+1), then outputs 16–31 the same way. Past OC and past C the panel holds
// 0. Sixteen consecutive pairs of one half are exactly an AMX weight tile (16 rows of 64 bytes,
// row stride 128 bytes), so all three kernels read the same panels.
#ifndef LLMREC_BF16_PANELS_H
#define LLMREC_BF16_PANELS_H
#include <stddef.h>
#include <stdint.h>
#include "block_panels.h"

/// The kernels, see above.
typedef enum { LLMREC_BF16_PORTABLE = 0, LLMREC_BF16_AVX512 = 1, LLMREC_BF16_AMX = 2 } llmrec_bf16_kernel;

/// 1 when this CPU has AVX512-BF16 (and AVX512F and AVX512BW, which every such CPU has), else 0.
int llmrec_bf16_kernel_available(void);

/// 1 when this CPU has AMX-BF16 (and AVX512-BF16) and the kernel lets this process use the tiles
/// (Linux asks each process to request them; this does, once), else 0.
int llmrec_bf16_amx_available(void);

/// The bf16 nearest to x (ties to even); NaN stays NaN, and a Float32 subnormal becomes a zero
/// of its sign, as the x86 conversion instructions do. The rounding every input and weight gets.
uint16_t llmrec_bf16_round(float x);

/// dst[i] = llmrec_bf16_round(src[i]), as `kernel` computes it (for the kernels that are not
/// portable, with AVX512-BF16's conversion instruction, which must then be available).
void llmrec_bf16_round_values(uint16_t *dst, const float *src, size_t count, llmrec_bf16_kernel kernel);

/// The Float32 value of a bf16 (exact).
float llmrec_bf16_to_float(uint16_t h);

/// Channel pairs per panel: C/2 rounded up to a multiple of 16 (whole AMX tiles).
size_t llmrec_bf16_panel_pairs(size_t C);

/// bf16 values in the packed form of a (OC, C) weight.
size_t llmrec_bf16_panel_values(size_t OC, size_t C);

/// Packs weight (OC, C), rounding each value to bf16, into `panels` (llmrec_bf16_panel_values).
void llmrec_pack_bf16_panels(uint16_t *panels, const float *weight, size_t OC, size_t C);

/// out (N, OC) = bf16(inp) (N, C) · Wᵀ (+ bias), for the output channels of panels [panelBegin,
/// panelEnd), accumulated in Float32 with `kernel` (which must be available). Each output's sum
/// runs over the channel pairs in order (the portable loop adds the odd channel's product before
/// the even one's, as `vdpbf16ps` does; AMX sums within its own tiles), whatever the number of
/// rows, so a row's result does not depend on what it is batched with.
void llmrec_bf16_panel_matmul(float *out, const float *inp, const uint16_t *panels, const float *bias, size_t N,
                              size_t C, size_t OC, size_t panelBegin, size_t panelEnd, llmrec_bf16_kernel kernel);

/// As llmrec_bf16_panel_matmul, on a weight kept in GGUF block panels (block_panels.h, Q4_1 or
/// Q8_0): each panel expands to bf16 just before use, so a pass reads the blocks' bytes (0.75 or
/// 1.125 a weight instead of 2) for the same products as bf16 panels of the dequantised weight.
void llmrec_bf16_block_panel_matmul(float *out, const float *inp, const uint8_t *packed, llmrec_block_code code, const float *bias,
                                    size_t N, size_t C, size_t OC, size_t panelBegin, size_t panelEnd, llmrec_bf16_kernel kernel);

/// The general product of training, where both sides change every call:
/// out (M, N) (+)= op(A) (M, K) · op(B) (N, K)ᵀ in bf16 with Float32 sums, where element (m, k) of
/// op(A) is a[m·aRow + k·aCol] and element (n, k) of op(B) is b[n·bRow + k·bCol] (strides express
/// either orientation of each). B is packed into panels on the calling thread, for the output
/// columns of panels [panelBegin, panelEnd) only, so that threads can split the columns.
/// `accumulate` 1 adds the product to out; 0 overwrites it.
void llmrec_bf16_gemm(float *out, size_t ldo, int accumulate, const float *a, size_t aRow, size_t aCol, const float *b, size_t bRow,
                      size_t bCol, size_t M, size_t N, size_t K, size_t panelBegin, size_t panelEnd, llmrec_bf16_kernel kernel);

#endif
