// The bf16 panel product (see bf16_panels.h). Compiled for the baseline target; the AVX-512
// functions carry their own target attributes and run only after a run-time CPU check, or when
// the caller asks for them having checked.
#include "bf16_panels.h"
#include "panel_matmul.h"
#include "panel_rows.h"
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
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
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

void llmrec_pack_bf16_panels(uint16_t *panels, const float *weight, size_t OC, size_t C) {
    size_t pairs = llmrec_bf16_panel_pairs(C);
    memset(panels, 0, llmrec_bf16_panel_values(OC, C) * sizeof(uint16_t));
    for (size_t oc = 0; oc < OC; oc++) {
        uint16_t *panel = panels + oc / W * pairs * 2 * W;
        size_t o = oc % W, half = o / 16, lane = o % 16;
        for (size_t c = 0; c < C; c++) panel[(c / 2) * 2 * W + half * W + lane * 2 + c % 2] = llmrec_bf16_round(weight[oc * C + c]);
    }
}

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

void llmrec_bf16_round_values(uint16_t *dst, const float *src, size_t count, llmrec_bf16_kernel kernel) {
    if (kernel == LLMREC_BF16_PORTABLE) {
        for (size_t i = 0; i < count; i++) dst[i] = llmrec_bf16_round(src[i]);
    } else {
        round_values_avx512(dst, src, count);
    }
}

// Input rows as bf16, C rounded up to the panels' pairs (padding channels are 0): row r's pair
// k is the 32-bit word r·pairs + k, channel 2k in its low half, as `vdpbf16ps` broadcasts it,
// and 32 channels of 16 rows are an AMX input tile.
static void round_rows(uint16_t *dst, const float *inp, size_t rows, size_t C, llmrec_bf16_kernel kernel) {
    size_t stride = llmrec_bf16_panel_pairs(C) * 2;
    for (size_t r = 0; r < rows; r++) {
        llmrec_bf16_round_values(dst + r * stride, inp + r * C, C, kernel);
        memset(dst + r * stride + C, 0, (stride - C) * sizeof(uint16_t));
    }
}

// R rows (R ≤ 12) × one panel, as the Float32 kernel (panel_rows.h) but one `vdpbf16ps` per
// channel pair where it has an FMA per channel.
#define BF16_ROWS(R)                                                                                      \
    __attribute__((target("avx512f,avx512bf16"))) static void bf16_rows_##R(                          \
        float *out, size_t ldo, const uint32_t *inp, size_t pairs, size_t used, const uint16_t *panel, \
        const float *bias, __mmask16 m0, __mmask16 m1) {                                               \
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
        PANEL_ROWS_END(R, out, ldo, m0, m1)                                                            \
    }

typedef void (*bf16_rows_fn)(float *, size_t, const uint32_t *, size_t, size_t, const uint16_t *, const float *, __mmask16, __mmask16);
PANEL_ROWS_TABLE(BF16_ROWS, bf16_rows, bf16_rows_fn)

// One row × one panel in portable C: the same products (exact in Float32: 8 × 8 significant
// bits) added in the same order.
static void portable_row(float *out, const uint32_t *inp, size_t used, const uint16_t *panel, const float *bias, size_t width) {
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
    memcpy(out, acc, width * sizeof(float));
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

// Adds the bias and stores rows [0, rows) of sums (row stride 32 floats) into out, inside OC.
__attribute__((target("avx512f"))) static void store_sums(float *out, size_t ldo, const float *sums, size_t rows, const float *bias,
                                                         __mmask16 m0, __mmask16 m1) {
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
    for (size_t r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(out + r * ldo, m0, _mm512_add_ps(_mm512_load_ps(sums + r * 32), b0));
        _mm512_mask_storeu_ps(out + r * ldo + 16, m1, _mm512_add_ps(_mm512_load_ps(sums + r * 32 + 16), b1));
    }
}

__attribute__((target("amx-tile,amx-bf16,avx512f")))
static void amx_rows(float *out, size_t ldo, const uint16_t *inp, size_t pairs, size_t rows, const uint16_t *panel,
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
    store_sums(out, ldo, sums, rows, bias, m0, m1);
}

// A block of rounded rows (zero rows after them up to a multiple of 32) × panels [begin, end).
// Panels go in groups of about 1 MB, which stay in L2 while every 32 rows pass over them; within
// a group, the 32 rows' inputs (18–48 KB) stay in L1 across its panels. So each step of a tile
// product reads its weights from L2 and its inputs from L1, not both from L2.
static void amx_block(float *out, const uint16_t *rows, size_t N, size_t pairs, const uint16_t *panels, const float *bias,
                      size_t OC, size_t begin, size_t end) {
    size_t panelValues = pairs * 2 * W, group = (1 << 20) / (panelValues * sizeof(uint16_t));
    if (group < 1) group = 1;
    for (size_t g = begin; g < end; g += group) {
        size_t gEnd = end - g < group ? end : g + group;
        for (size_t n = 0; n < N; n += 32) {
            size_t count = N - n < 32 ? N - n : 32;
            for (size_t p = g; p < gEnd; p++) {
                uint16_t m0, m1;
                llmrec_panel_masks(OC, p, &m0, &m1);
                amx_rows(out + n * OC + p * W, OC, rows + n * pairs * 2, pairs, count, panels + p * panelValues, bias ? bias + p * W : 0, m0, m1);
            }
        }
    }
}

// The rows of one block, rounded, per thread: grown as needed and kept for the thread's life.
// AMX reads whole tiles of 16 rows, so the block is followed by zero rows up to a multiple of 32.
static _Thread_local uint16_t *scratch;
static _Thread_local size_t scratchValues;

void llmrec_bf16_panel_matmul(float *out, const float *inp, const uint16_t *panels, const float *bias, size_t N,
                              size_t C, size_t OC, size_t panelBegin, size_t panelEnd, llmrec_bf16_kernel kernel) {
    size_t pairs = llmrec_bf16_panel_pairs(C), used = (C + 1) / 2;
    // Rows in blocks whose rounded inputs stay in L2 while the panels pass over them: a multiple
    // of 96, whole register blocks (12 rows) and AMX groups (32 rows) alike.
    size_t block = 256 * 1024 / (pairs * 4) / 96 * 96;
    if (block < 96) block = 96;
    size_t need = ((N < block ? N : block) + 31) / 32 * 32 * pairs * 2;
    if (scratchValues < need) {
        free(scratch);
        scratch = aligned_alloc(64, (need * sizeof(uint16_t) + 63) / 64 * 64);
        scratchValues = scratch ? need : 0;
        if (!scratch) abort();
    }
    const uint32_t *rows = (const uint32_t *)scratch;
    if (kernel == LLMREC_BF16_AMX) amx_begin();
    for (size_t n0 = 0; n0 < N; n0 += block) {
        size_t n1 = N - n0 < block ? N : n0 + block, padded = (n1 - n0 + 31) / 32 * 32;
        round_rows(scratch, inp + n0 * C, n1 - n0, C, kernel);
        if (kernel == LLMREC_BF16_AMX) {
            memset(scratch + (n1 - n0) * pairs * 2, 0, (padded - (n1 - n0)) * pairs * 2 * sizeof(uint16_t));
            amx_block(out + n0 * OC, scratch, n1 - n0, pairs, panels, bias, OC, panelBegin, panelEnd);
            continue;
        }
        for (size_t p = panelBegin; p < panelEnd; p++) {
            const uint16_t *panel = panels + p * pairs * 2 * W;
            size_t first = p * W, width = OC - first < W ? OC - first : W;
            const float *b = bias ? bias + first : 0;
            if (kernel == LLMREC_BF16_PORTABLE) {
                for (size_t n = n0; n < n1; n++) portable_row(out + n * OC + first, rows + (n - n0) * pairs, used, panel, b, width);
                continue;
            }
            uint16_t m0, m1;
            llmrec_panel_masks(OC, p, &m0, &m1);
            for (size_t n = n0; n < n1; n += 12) {
                size_t count = n1 - n < 12 ? n1 - n : 12;
                bf16_rows[count](out + n * OC + first, OC, rows + (n - n0) * pairs, pairs, used, panel, b, m0, m1);
            }
        }
    }
    if (kernel == LLMREC_BF16_AMX) amx_end();
}
