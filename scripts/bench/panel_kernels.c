// The panel kernels against OpenBLAS sgemm on SmolLM2-135M's products: every layer's q|k|v, o,
// gate|up and down weights (30 layers, weights streamed from memory as in decoding) and the
// output head, for N input rows, on two threads splitting the output panels as llmrec does.
// Five ways: sgemm on the row-major weight (OpenBLAS, 2 threads, re-packing it every call),
// Float32 panels, panels kept in GGUF blocks (Q4_1 layers, Q8_0 head) from random blocks, and
// bf16 panels through AVX512-BF16 and through AMX, where the CPU has them.
// Built and run by panel_kernels.sh.
#include "bf16_panels.h"
#include "block_panels.h"
#include "panel_matmul.h"
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);

typedef struct {
    size_t oc, c;
    llmrec_block_code code;
    float *weight, *panels;
    uint8_t *blocks;
    uint16_t *bf16;
} Matrix;

enum { LAYERS = 30 };
static Matrix matrices[LAYERS * 4 + 1];
static int count;
static float *inp, *out;
static size_t N;
static int way;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *alloc(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) abort();
    return p;
}

// Random GGUF blocks (halves with small exponents, random codes), packed both ways.
static Matrix make(size_t oc, size_t c, llmrec_block_code code) {
    Matrix m = {oc, c, code, 0, 0, 0, 0};
    size_t blockBytes = llmrec_block_source_bytes(code), perRow = c / 32 * blockBytes;
    uint8_t *src = alloc(oc * perRow);
    for (size_t i = 0; i < oc * perRow; i++) src[i] = (uint8_t)rand();
    for (size_t b = 0; b < oc * c / 32; b++) {
        src[b * blockBytes + 1] = 0x20;                       // d ≈ 2^-7
        if (code == LLMREC_Q4_1) src[b * blockBytes + 3] = 0xA0;  // m ≈ -2^-7
    }
    const uint8_t **rows = alloc(oc * sizeof *rows);
    for (size_t o = 0; o < oc; o++) rows[o] = src + o * perRow;
    m.blocks = alloc(llmrec_block_panels_bytes(code, oc, c));
    llmrec_pack_block_panels(m.blocks, code, rows, oc, c);
    m.panels = alloc(llmrec_panel_floats(oc, c) * sizeof(float));
    llmrec_unpack_block_panels(m.panels, m.blocks, code, oc, c);
    m.weight = alloc(oc * c * sizeof(float));  // row-major (OC, C) for sgemm
    for (size_t o = 0; o < oc; o++)
        for (size_t k = 0; k < c; k++) m.weight[o * c + k] = m.panels[(o / 32) * c * 32 + k * 32 + o % 32];
    m.bf16 = alloc(llmrec_bf16_panel_values(oc, c) * sizeof(uint16_t));
    llmrec_pack_bf16_panels(m.bf16, m.weight, oc, c);
    free(src);
    free(rows);
    return m;
}

static void *half(void *arg) {
    int t = *(int *)arg;
    for (int i = 0; i < count; i++) {
        Matrix *m = &matrices[i];
        size_t panels = (m->oc + 31) / 32, mid = panels / 2, b = t ? mid : 0, e = t ? panels : mid;
        if (way >= 3) llmrec_bf16_panel_matmul(out, inp, m->bf16, 0, N, m->c, m->oc, b, e, way == 3 ? LLMREC_BF16_AVX512 : LLMREC_BF16_AMX);
        else if (way == 2) llmrec_block_panel_matmul(out, inp, m->blocks, m->code, 0, N, m->c, m->oc, b, e);
        else llmrec_panel_matmul(out, inp, m->panels, 0, N, m->c, m->oc, b, e);
    }
    return 0;
}

static double pass(int w) {
    way = w;
    double t0 = now();
    if (way == 0) {
        for (int i = 0; i < count; i++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)matrices[i].oc, (int)matrices[i].c, 1, inp,
                        (int)matrices[i].c, matrices[i].weight, (int)matrices[i].c, 0, out, (int)matrices[i].oc);
    } else {
        pthread_t helper;
        int one = 1, zero = 0;
        pthread_create(&helper, 0, half, &one);
        half(&zero);
        pthread_join(helper, 0);
    }
    return now() - t0;
}

int main(int argc, char **argv) {
    if (!llmrec_panel_kernel_available()) {
        fprintf(stderr, "this CPU has no AVX-512: the panel kernels do not run here\n");
        return 1;
    }
    openblas_set_num_threads(2);
    size_t shapes[4][2] = {{960, 576}, {576, 576}, {3072, 576}, {576, 1536}};
    double flops = 0;
    srand(1);
    for (int l = 0; l < LAYERS; l++)
        for (int s = 0; s < 4; s++) matrices[count++] = make(shapes[s][0], shapes[s][1], LLMREC_Q4_1);
    matrices[count++] = make(49152, 576, LLMREC_Q8_0);
    for (int i = 0; i < count; i++) flops += 2.0 * matrices[i].oc * matrices[i].c;
    inp = alloc(512 * 1536 * sizeof(float));
    out = alloc(512 * 49152 * sizeof(float));
    for (size_t i = 0; i < 512 * 1536; i++) inp[i] = 1e-3f * (float)(i % 7);
    int avx512bf16 = llmrec_bf16_kernel_available(), amx = llmrec_bf16_amx_available();
    printf("%6s %22s %22s %22s %22s %22s\n", "rows", "sgemm (OpenBLAS)", "Float32 panels", "GGUF block panels",
           avx512bf16 ? "bf16 AVX512-BF16" : "", amx ? "bf16 AMX" : "");
    for (int a = 1; a < argc; a++) {
        N = (size_t)atoi(argv[a]);
        if (N < 1 || N > 512) { fprintf(stderr, "rows must be in 1...512, got %s\n", argv[a]); return 2; }
        printf("%6zu", N);
        for (int w = 0; w < 5; w++) {
            if ((w == 3 && !avx512bf16) || (w == 4 && !amx)) { printf(" %22s", "-"); continue; }
            double best = 1e9;
            for (int rep = 0; rep < 5; rep++) { double t = pass(w); if (t < best) best = t; }
            printf(" %9.1f ms %6.0f GF/s", best * 1e3, flops * N / best * 1e-9);
        }
        printf("\n");
    }
    return 0;
}
