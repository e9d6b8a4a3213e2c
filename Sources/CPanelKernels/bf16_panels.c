// The bf16 panel product (see bf16_panels.h). Compiled for the baseline target; the AVX-512
// functions carry their own target attributes and run only after a run-time CPU check, or when
// the caller asks for them having checked.
#include "bf16_panels.h"
#include "panel_matmul.h"
#include "panel_rows.h"
#include "bf16_pairs.h"
#include "block_panels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define W LLMREC_PANEL_WIDTH

int llmrec_bf16_kernel_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
}

int llmrec_bf16_amx_available(void) {
    __builtin_cpu_init();
    if (!llmrec_bf16_kernel_available() || !__builtin_cpu_supports("amx-tile") || !__builtin_cpu_supports("amx-bf16")) return 0;
#if defined(__linux__) && defined(SYS_arch_prctl)
    // ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA: the tiles' state is off until a process asks.
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
    return 0;
#endif
}

uint16_t llmrec_bf16_round(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    if ((bits & 0x7FFFFFFF) > 0x7F800000) return (uint16_t)(bits >> 16 | 0x40);  // NaN: keep it a (quiet) NaN
    if ((bits & 0x7F800000) == 0) return (uint16_t)(bits >> 16 & 0x8000);        // subnormal: signed zero
    return (uint16_t)((bits + 0x7FFF + (bits >> 16 & 1)) >> 16);
}

float llmrec_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float x;
    memcpy(&x, &bits, 4);
    return x;
}

size_t llmrec_bf16_panel_pairs(size_t C) { return (C + 31) / 32 * 16; }

size_t llmrec_bf16_panel_values(size_t OC, size_t C) { return (OC + W - 1) / W * W * llmrec_bf16_panel_pairs(C) * 2; }

// The same rounding, 32 values an instruction (`vcvtne2ps2bf16` rounds to nearest even, keeps
// NaNs quiet and flushes subnormals to zero exactly as llmrec_bf16_round).
__attribute__((target("avx512f,avx512bf16"))) static void round_values_avx512(uint16_t *dst, const float *src, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
        _mm512_storeu_si512(dst + i, (__m512i)v);
    }
    for (; i < count; i++) dst[i] = llmrec_bf16_round(src[i]);
}

// Panels [begin, end) of a weight stored transposed (element (o, c) at weight[o + c·colStride]):
// channels 2k and 2k+1 of 32 outputs are two runs of 32 floats, paired in registers.
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void pack_panels_transposed(uint16_t *panels, const float *weight, size_t colStride, size_t OC, size_t C, size_t begin,
                                   size_t end) {
    size_t pairs = llmrec_bf16_panel_pairs(C);
    for (size_t p = begin; p < end; p++) {
        uint16_t *panel = panels + (p - begin) * pairs * 2 * W;
        uint16_t m0, m1;
        llmrec_panel_masks(OC, p, &m0, &m1);
        for (size_t k = 0; k < pairs; k++) {
            __m512 x0 = _mm512_setzero_ps(), x1 = x0, y0 = x0, y1 = x0;
            if (2 * k < C) {
                const float *row = weight + 2 * k * colStride + p * W;
                x0 = _mm512_maskz_loadu_ps(m0, row), x1 = _mm512_maskz_loadu_ps(m1, row + 16);
            }
            if (2 * k + 1 < C) {
                const float *row = weight + (2 * k + 1) * colStride + p * W;
                y0 = _mm512_maskz_loadu_ps(m0, row), y1 = _mm512_maskz_loadu_ps(m1, row + 16);
            }
            _mm512_storeu_si512(panel + k * 2 * W, llmrec_pair_words(x0, y0));
            _mm512_storeu_si512(panel + k * 2 * W + W, llmrec_pair_words(x1, y1));
        }
    }
}

// Panels [begin, end) of a row-major weight (element (o, c) at weight[o·rowStride + c]): each row
// rounds 32 values an instruction, then its pairs go to their places as 32-bit words.
__attribute__((target("avx512f,avx512bf16")))
static void pack_panels_rows(uint16_t *panels, const float *weight, size_t rowStride, size_t OC, size_t C, size_t begin, size_t end,
                             uint16_t *row) {
    size_t pairs = llmrec_bf16_panel_pairs(C), last = end * W < OC ? end * W : OC;
    memset(panels, 0, (end - begin) * pairs * 2 * W * sizeof(uint16_t));
    row[C] = 0;  // the padding channel of an odd C
    for (size_t oc = begin * W; oc < last; oc++) {
        round_values_avx512(row, weight + oc * rowStride, C);
        uint32_t *words = (uint32_t *)(panels + (oc / W - begin) * pairs * 2 * W) + (oc % W / 16) * 16 + oc % 16;
        const uint32_t *pairsOfRow = (const uint32_t *)row;
        for (size_t k = 0; k < (C + 1) / 2; k++) words[k * W] = pairsOfRow[k];
    }
}

// Packs panels [begin, end) of a weight whose element (o, c) is weight[o·rowStride + c·colStride]
// (a row-major weight, or the transpose of one) into `panels`, panel `begin` first.
static void pack_panels_any(uint16_t *panels, const float *weight, size_t rowStride, size_t colStride, size_t OC, size_t C,
                            size_t begin, size_t end) {
    size_t pairs = llmrec_bf16_panel_pairs(C), last = end * W < OC ? end * W : OC;
    memset(panels, 0, (end - begin) * pairs * 2 * W * sizeof(uint16_t));
    for (size_t oc = begin * W; oc < last; oc++) {
        uint16_t *panel = panels + (oc / W - begin) * pairs * 2 * W;
        size_t o = oc % W, half = o / 16, lane = o % 16;
        for (size_t c = 0; c < C; c++)
            panel[(c / 2) * 2 * W + half * W + lane * 2 + c % 2] = llmrec_bf16_round(weight[oc * rowStride + c * colStride]);
    }
}

// The packing a product's kernel uses: vectorised for the two orientations training has where
// the CPU has AVX512-BF16, element by element otherwise (to the same values).
static void pack_panels(uint16_t *panels, const float *weight, size_t rowStride, size_t colStride, size_t OC, size_t C,
                        size_t begin, size_t end, llmrec_bf16_kernel kernel, uint16_t *row) {
    if (kernel != LLMREC_BF16_PORTABLE && rowStride == 1) pack_panels_transposed(panels, weight, colStride, OC, C, begin, end);
    else if (kernel != LLMREC_BF16_PORTABLE && colStride == 1) pack_panels_rows(panels, weight, rowStride, OC, C, begin, end, row);
    else pack_panels_any(panels, weight, rowStride, colStride, OC, C, begin, end);
}

void llmrec_pack_bf16_panels(uint16_t *panels, const float *weight, size_t OC, size_t C) {
    pack_panels_any(panels, weight, C, 1, OC, C, 0, (OC + W - 1) / W);
}

void llmrec_bf16_round_values(uint16_t *dst, const float *src, size_t count, llmrec_bf16_kernel kernel) {
    if (kernel == LLMREC_BF16_PORTABLE) {
        for (size_t i = 0; i < count; i++) dst[i] = llmrec_bf16_round(src[i]);
    } else {
        round_values_avx512(dst, src, count);
    }
}

// Rows of a transposed input (element (r, c) at inp[r + c·colStride]): channels 2k and 2k+1 of
// 16 rows are two runs of 16 floats, paired in registers and scattered to the 16 rows.
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void round_rows_transposed(uint16_t *dst, const float *inp, size_t colStride, size_t rows, size_t C) {
    size_t pairs = llmrec_bf16_panel_pairs(C);
    uint32_t *words = (uint32_t *)dst;
    const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                             _mm512_set1_epi32((int)pairs));
    for (size_t r = 0; r < rows; r += 16) {
        __mmask16 m = rows - r >= 16 ? 0xFFFF : (__mmask16)((1u << (rows - r)) - 1);
        for (size_t k = 0; k < pairs; k++) {
            __m512 x = _mm512_setzero_ps(), y = x;
            if (2 * k < C) x = _mm512_maskz_loadu_ps(m, inp + 2 * k * colStride + r);
            if (2 * k + 1 < C) y = _mm512_maskz_loadu_ps(m, inp + (2 * k + 1) * colStride + r);
            _mm512_mask_i32scatter_epi32(words + r * pairs + k, m, lanes, llmrec_pair_words(x, y), 4);
        }
    }
}

// Input rows as bf16, C rounded up to the panels' pairs (padding channels are 0): row r's pair
// k is the 32-bit word r·pairs + k, channel 2k in its low half, as `vdpbf16ps` broadcasts it,
// and 32 channels of 16 rows are an AMX input tile. Element (r, c) of the input is
// inp[r·rowStride + c·colStride]: rows along memory round 32 values an instruction, transposed
// ones pair in registers, others go one value at a time, all to the same values.
static void round_rows(uint16_t *dst, const float *inp, size_t rowStride, size_t colStride, size_t rows, size_t C,
                       llmrec_bf16_kernel kernel) {
    size_t stride = llmrec_bf16_panel_pairs(C) * 2;
    if (kernel != LLMREC_BF16_PORTABLE && rowStride == 1 && colStride != 1) {
        round_rows_transposed(dst, inp, colStride, rows, C);
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        if (colStride == 1) llmrec_bf16_round_values(dst + r * stride, inp + r * rowStride, C, kernel);
        else for (size_t c = 0; c < C; c++) dst[r * stride + c] = llmrec_bf16_round(inp[r * rowStride + c * colStride]);
        memset(dst + r * stride + C, 0, (stride - C) * sizeof(uint16_t));
    }
}

// R rows (R ≤ 12) × one panel, as the Float32 kernel (panel_rows.h) but one `vdpbf16ps` per
// channel pair where it has an FMA per channel.
#define BF16_ROWS(R)                                                                                      \
    __attribute__((target("avx512f,avx512bf16"))) static void bf16_rows_##R(                          \
        float *out, size_t ldo, int accumulate, const uint32_t *inp, size_t pairs, size_t used,         \
        const uint16_t *panel, const float *bias, __mmask16 m0, __mmask16 m1) {                        \
        PANEL_ROWS_BEGIN(R, bias, m0, m1)                                                              \
        for (size_t k = 0; k < used; k++) {                                                            \
            __m512bh w0 = (__m512bh)_mm512_loadu_si512(panel + k * 2 * W);                             \
            __m512bh w1 = (__m512bh)_mm512_loadu_si512(panel + k * 2 * W + W);                         \
            _Pragma("GCC unroll 12") for (int r = 0; r < R; r++) {                                     \
                __m512bh x = (__m512bh)_mm512_set1_epi32((int)inp[r * pairs + k]);                     \
                lo[r] = _mm512_dpbf16_ps(lo[r], x, w0);                                                \
                hi[r] = _mm512_dpbf16_ps(hi[r], x, w1);                                                \
            }                                                                                          \
        }                                                                                              \
        if (accumulate) {                                                                              \
            for (int r = 0; r < R; r++) {                                                              \
                lo[r] = _mm512_add_ps(lo[r], _mm512_maskz_loadu_ps(m0, out + r * ldo));                \
                hi[r] = _mm512_add_ps(hi[r], _mm512_maskz_loadu_ps(m1, out + r * ldo + 16));           \
            }                                                                                          \
        }                                                                                              \
        PANEL_ROWS_END(R, out, ldo, m0, m1)                                                            \
    }

typedef void (*bf16_rows_fn)(float *, size_t, int, const uint32_t *, size_t, size_t, const uint16_t *, const float *, __mmask16,
                             __mmask16);
PANEL_ROWS_TABLE(BF16_ROWS, bf16_rows, bf16_rows_fn)

// One row × one panel in portable C: the same products (exact in Float32: 8 × 8 significant
// bits) added in the same order.
static void portable_row(float *out, int accumulate, const uint32_t *inp, size_t used, const uint16_t *panel, const float *bias,
                         size_t width) {
    float acc[W];
    for (size_t o = 0; o < W; o++) acc[o] = bias && o < width ? bias[o] : 0;
    for (size_t k = 0; k < used; k++) {
        float x0 = llmrec_bf16_to_float((uint16_t)inp[k]), x1 = llmrec_bf16_to_float((uint16_t)(inp[k] >> 16));
        const uint16_t *w = panel + k * 2 * W;
        for (size_t o = 0; o < W; o++) {
            size_t at = o / 16 * W + o % 16 * 2;
            acc[o] += x1 * llmrec_bf16_to_float(w[at + 1]);
            acc[o] += x0 * llmrec_bf16_to_float(w[at]);
        }
    }
    for (size_t o = 0; o < width; o++) out[o] = accumulate ? out[o] + acc[o] : acc[o];
}

// AMX: up to 32 rows × one panel, in 16 × 16 tiles: inputs A0 (rows 0–15) and A1 (rows 16–31),
// weights B0 (outputs 0–15) and B1 (outputs 16–31), sums C[a][b] = A_a · B_b over 32 channels a
// step.
// (Plain macros: GCC's tile intrinsics paste the number into the instruction text.)
#define AMX_C00 0
#define AMX_C01 1
#define AMX_C10 2
#define AMX_C11 3
#define AMX_A0 4
#define AMX_A1 5
#define AMX_B0 6
#define AMX_B1 7

typedef struct {
    uint8_t palette, startRow, reserved[14];
    uint16_t bytesPerRow[16];
    uint8_t rows[16];
} amx_config;

__attribute__((target("amx-tile"))) static void amx_begin(void) {
    amx_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.bytesPerRow[t] = 64;  // 16 Float32 sums, or 32 bf16 channels, or 16 outputs × a pair
        cfg.rows[t] = 16;
    }
    // GCC's _tile_loadconfig tells the compiler it reads only 8 bytes of the configuration, so
    // the stores above could be dropped as dead; the barrier keeps them.
    __asm__ __volatile__("" : : "r"(&cfg) : "memory");
    _tile_loadconfig(&cfg);
}

__attribute__((target("amx-tile"))) static void amx_end(void) { _tile_release(); }

// Adds the bias (or, accumulating, what out holds) and stores rows [0, rows) of sums (row stride
// 32 floats) into out, inside OC.
__attribute__((target("avx512f"))) static void store_sums(float *out, size_t ldo, int accumulate, const float *sums, size_t rows,
                                                         const float *bias, __mmask16 m0, __mmask16 m1) {
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
    for (size_t r = 0; r < rows; r++) {
        __m512 s0 = _mm512_add_ps(_mm512_load_ps(sums + r * 32), b0), s1 = _mm512_add_ps(_mm512_load_ps(sums + r * 32 + 16), b1);
        if (accumulate) {
            s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m0, out + r * ldo));
            s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(m1, out + r * ldo + 16));
        }
        _mm512_mask_storeu_ps(out + r * ldo, m0, s0);
        _mm512_mask_storeu_ps(out + r * ldo + 16, m1, s1);
    }
}

__attribute__((target("amx-tile,amx-bf16,avx512f")))
static void amx_rows(float *out, size_t ldo, int accumulate, const uint16_t *inp, size_t pairs, size_t rows, const uint16_t *panel,
                     const float *bias, __mmask16 m0, __mmask16 m1) {
    _Alignas(64) float sums[32 * 32];
    size_t stride = pairs * 4;  // bytes per input row
    _tile_zero(AMX_C00);
    _tile_zero(AMX_C01);
    if (rows > 16) {
        _tile_zero(AMX_C10);
        _tile_zero(AMX_C11);
    }
    for (size_t k = 0; k < pairs; k += 16) {
        _tile_loadd(AMX_B0, panel + k * 2 * W, 2 * W * sizeof(uint16_t));
        _tile_loadd(AMX_B1, panel + k * 2 * W + W, 2 * W * sizeof(uint16_t));
        _tile_loadd(AMX_A0, inp + 2 * k, stride);
        _tile_dpbf16ps(AMX_C00, AMX_A0, AMX_B0);
        _tile_dpbf16ps(AMX_C01, AMX_A0, AMX_B1);
        if (rows > 16) {
            _tile_loadd(AMX_A1, inp + 16 * pairs * 2 + 2 * k, stride);
            _tile_dpbf16ps(AMX_C10, AMX_A1, AMX_B0);
            _tile_dpbf16ps(AMX_C11, AMX_A1, AMX_B1);
        }
    }
    _tile_stored(AMX_C00, sums, 32 * sizeof(float));
    _tile_stored(AMX_C01, sums + 16, 32 * sizeof(float));
    if (rows > 16) {
        _tile_stored(AMX_C10, sums + 16 * 32, 32 * sizeof(float));
        _tile_stored(AMX_C11, sums + 16 * 32 + 16, 32 * sizeof(float));
    }
    store_sums(out, ldo, accumulate, sums, rows, bias, m0, m1);
}

// A block of N rounded rows (zero rows after them up to a multiple of 32) × panels [begin, end)
// (panel p at panels + (p − first)·values) into out (row stride ldo). For AMX, panels go in
// groups of about 1 MB, which stay in L2 while every 32 rows pass over them; within a group, the
// 32 rows' inputs (18–48 KB) stay in L1 across its panels. So each step of a tile product reads
// its weights from L2 and its inputs from L1, not both from L2.
static void multiply_block(float *out, size_t ldo, int accumulate, const uint16_t *rows, size_t N, size_t C, const uint16_t *panels,
                           size_t first, const float *bias, size_t OC, size_t begin, size_t end, llmrec_bf16_kernel kernel) {
    size_t pairs = llmrec_bf16_panel_pairs(C), used = (C + 1) / 2, values = pairs * 2 * W;
    const uint32_t *words = (const uint32_t *)rows;
    size_t group = kernel == LLMREC_BF16_AMX ? (1 << 20) / (values * sizeof(uint16_t)) : 1;
    if (group < 1) group = 1;
    for (size_t g = begin; g < end; g += group) {
        size_t gEnd = end - g < group ? end : g + group;
        size_t step = kernel == LLMREC_BF16_AMX ? 32 : kernel == LLMREC_BF16_AVX512 ? 12 : 1;
        for (size_t n = 0; n < N; n += step) {
            size_t count = N - n < step ? N - n : step;
            for (size_t p = g; p < gEnd; p++) {
                const uint16_t *panel = panels + (p - first) * values;
                float *o = out + n * ldo + p * W;
                const float *b = bias ? bias + p * W : 0;
                if (kernel == LLMREC_BF16_PORTABLE) {
                    portable_row(o, accumulate, words + n * pairs, used, panel, b, OC - p * W < W ? OC - p * W : W);
                    continue;
                }
                uint16_t m0, m1;
                llmrec_panel_masks(OC, p, &m0, &m1);
                if (kernel == LLMREC_BF16_AMX) amx_rows(o, ldo, accumulate, rows + n * pairs * 2, pairs, count, panel, b, m0, m1);
                else bf16_rows[count](o, ldo, accumulate, words + n * pairs, pairs, used, panel, b, m0, m1);
            }
        }
    }
}

// Per thread, grown as needed and kept for the thread's life: one block of rounded rows (AMX
// reads whole tiles of 16 rows, so zero rows follow up to a multiple of 32), and the panels a
// general product packs.
static _Thread_local uint16_t *rowScratch, *panelScratch;
static _Thread_local size_t rowScratchValues, panelScratchValues;

static uint16_t *grow(uint16_t **buffer, size_t *capacity, size_t values) {
    if (*capacity < values) {
        free(*buffer);
        *buffer = aligned_alloc(64, (values * sizeof(uint16_t) + 63) / 64 * 64);
        *capacity = *buffer ? values : 0;
        if (!*buffer) abort();
    }
    return *buffer;
}

// out (N, OC) (+)= rows of inp (element (n, c) at inp[n·rowStride + c·colStride]) · the panels,
// in blocks of rows whose rounded inputs stay in L2 while the panels pass over them: a multiple
// of 96, whole register blocks (12 rows) and AMX groups (32 rows) alike.
// With `blocks`, the panels are GGUF block panels (block_panels.h) instead: each expands to bf16
// panel layout just before its use, into per-thread scratch (the values bf16 panels packed from
// the dequantised weights hold, so the products are the same bits).
static void multiply_rows(float *out, size_t ldo, int accumulate, const float *inp, size_t rowStride, size_t colStride, size_t N,
                          size_t C, const uint16_t *panels, size_t first, const float *bias, size_t OC, size_t begin, size_t end,
                          llmrec_bf16_kernel kernel, const uint8_t *blocks, llmrec_block_code code) {
    size_t pairs = llmrec_bf16_panel_pairs(C);
    uint16_t *expanded = blocks ? grow(&panelScratch, &panelScratchValues, pairs * 2 * W) : 0;
    // Expanded blocks are expanded once per block of rows, so those blocks are 4× larger (1 MB of
    // inputs, which L2 still holds beside a panel): a 1,024-row pass expands each panel 2–4 times.
    size_t block = (blocks ? 1024 * 1024 : 256 * 1024) / (pairs * 4) / 96 * 96;
    if (block < 96) block = 96;
    uint16_t *rows = grow(&rowScratch, &rowScratchValues, ((N < block ? N : block) + 31) / 32 * 32 * pairs * 2);
    if (kernel == LLMREC_BF16_AMX) amx_begin();
    for (size_t n0 = 0; n0 < N; n0 += block) {
        size_t n = N - n0 < block ? N - n0 : block, padded = (n + 31) / 32 * 32;
        round_rows(rows, inp + n0 * rowStride, rowStride, colStride, n, C, kernel);
        if (kernel == LLMREC_BF16_AMX) memset(rows + n * pairs * 2, 0, (padded - n) * pairs * 2 * sizeof(uint16_t));
        if (!blocks) {
            multiply_block(out + n0 * ldo, ldo, accumulate, rows, n, C, panels, first, bias, OC, begin, end, kernel);
            continue;
        }
        for (size_t p = begin; p < end; p++) {
            llmrec_expand_block_panel_bf16(expanded, blocks + p * llmrec_block_panel_bytes(code, C), code, C, kernel != LLMREC_BF16_PORTABLE);
            multiply_block(out + n0 * ldo, ldo, accumulate, rows, n, C, expanded, p, bias, OC, p, p + 1, kernel);
        }
    }
    if (kernel == LLMREC_BF16_AMX) amx_end();
}

void llmrec_bf16_panel_matmul(float *out, const float *inp, const uint16_t *panels, const float *bias, size_t N,
                              size_t C, size_t OC, size_t panelBegin, size_t panelEnd, llmrec_bf16_kernel kernel) {
    multiply_rows(out, OC, 0, inp, C, 1, N, C, panels, 0, bias, OC, panelBegin, panelEnd, kernel, 0, LLMREC_Q4_1);
}

void llmrec_bf16_block_panel_matmul(float *out, const float *inp, const uint8_t *packed, llmrec_block_code code, const float *bias,
                                    size_t N, size_t C, size_t OC, size_t panelBegin, size_t panelEnd, llmrec_bf16_kernel kernel) {
    multiply_rows(out, OC, 0, inp, C, 1, N, C, 0, 0, bias, OC, panelBegin, panelEnd, kernel, packed, code);
}

void llmrec_bf16_gemm(float *out, size_t ldo, int accumulate, const float *a, size_t aRow, size_t aCol, const float *b, size_t bRow,
                      size_t bCol, size_t M, size_t N, size_t K, size_t panelBegin, size_t panelEnd, llmrec_bf16_kernel kernel) {
    if (panelBegin >= panelEnd || M == 0) return;
    size_t values = llmrec_bf16_panel_pairs(K) * 2 * W;
    uint16_t *panels = grow(&panelScratch, &panelScratchValues, (panelEnd - panelBegin) * values);
    uint16_t *row = grow(&rowScratch, &rowScratchValues, K + 1);
    pack_panels(panels, b, bRow, bCol, N, K, panelBegin, panelEnd, kernel, row);
    multiply_rows(out, ldo, accumulate, a, aRow, aCol, M, K, panels, panelBegin, 0, N, panelBegin, panelEnd, kernel, 0, LLMREC_Q4_1);
}
