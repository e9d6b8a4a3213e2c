// The CUDA C kernels of the CUDA backend, one program compiled by NVRTC on first use. Each does
// what the CPU kernel of the same name in Sources/Kernels does, in the same order of operations
// where the result depends on it (checked against them by `llmrec cuda check`):
//   inference:  embed_rows, rmsnorm_forward, rope_rows, store_kv, attention_rows, swiglu_forward,
//               add_in_place, add_bias_rows, log_sum_exp_rows, bf16_round
//   training:   attention_train_forward, attention_train_backward_query, attention_train_backward_key,
//               rmsnorm_backward_input, column_partial_sums, column_sums_add, swiglu_backward,
//               scatter_add_rows, embedding_backward, softmax_xent_rows, masked_softmax_rows,
//               dropout_rows, sum_squares, scale_values, adamw_update
//   beam search: attention_beam_rows, copy_beam_slots
// Row kernels run one block per row (block sizes are multiples of 32: the reductions use whole
// warps), the training attention one warp per row and head; elementwise kernels one thread per
// element over a grid-stride loop.

public enum KernelProgram {
    public static let name = "llmrec_kernels.cu"

    /// Warp and block reductions, and bf16 rounding, shared by the kernels.
    static let prelude = #"""
    #define NEG_INF __int_as_float(0xff800000u)
    __device__ __forceinline__ bool is_finite(float x) { return (__float_as_uint(x) & 0x7F800000u) != 0x7F800000u; }
    // Sum and maximum over a warp, then over a block of up to 1024 threads (a multiple of 32).
    __device__ __forceinline__ float warp_sum(float v) {
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        return v;
    }
    __device__ __forceinline__ float warp_max(float v) {
        for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
        return v;
    }
    __device__ float block_reduce(float v, bool is_max) {
        __shared__ float partial[32];
        int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
        v = is_max ? warp_max(v) : warp_sum(v);
        __syncthreads();
        if (lane == 0) partial[warp] = v;
        __syncthreads();
        if (warp == 0) {
            float w = lane < warps ? partial[lane] : (is_max ? NEG_INF : 0.0f);
            w = is_max ? warp_max(w) : warp_sum(w);
            if (lane == 0) partial[0] = w;
        }
        __syncthreads();
        float result = partial[0];
        __syncthreads();
        return result;
    }
    __device__ __forceinline__ float block_sum(float v) { return block_reduce(v, false); }
    __device__ __forceinline__ float block_max(float v) { return block_reduce(v, true); }

    // scores[0 ..< n] ← exp(scores − max); returns 1 / Σ. `mx` is this thread's maximum over the
    // scores it wrote (thread t owns t, t + blockDim.x, …). Every thread of the block calls it.
    __device__ float softmax_exps(float *scores, int n, float mx) {
        mx = block_max(mx);
        float sum = 0.0f;
        for (int s = threadIdx.x; s < n; s += blockDim.x) {
            float e = expf(scores[s] - mx);
            scores[s] = e;
            sum += e;
        }
        return 1.0f / block_sum(sum);
    }

    // The bf16 nearest to x, ties to even; NaN stays a quiet NaN, a subnormal becomes a zero of
    // its sign (as llmrec_bf16_round in Sources/CPanelKernels does, bit for bit).
    __device__ __forceinline__ unsigned short bf16_round(float x) {
        unsigned int bits = __float_as_uint(x);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (unsigned short)(bits >> 16 | 0x40u);
        if ((bits & 0x7F800000u) == 0) return (unsigned short)(bits >> 16 & 0x8000u);
        return (unsigned short)((bits + 0x7FFFu + (bits >> 16 & 1u)) >> 16);
    }

    // A warp's lanes over one row of D ≤ 32·LANE_CHANNELS channels (the warp-per-row attention
    // kernels): lane l holds channels l, l + 32, …, in registers (x[k] is channel l + 32k; 0 past D).
    #define LANE_CHANNELS 8
    __device__ __forceinline__ void lane_load(float *x, const float *row, int D, int lane) {
        #pragma unroll
        for (int k = 0; k < LANE_CHANNELS; k++) { int d = lane + 32 * k; x[k] = d < D ? row[d] : 0.0f; }
    }
    // row[d] = x (or += x) at the lane's channels.
    __device__ __forceinline__ void lane_store(float *row, const float *x, int D, int lane, bool accumulate) {
        #pragma unroll
        for (int k = 0; k < LANE_CHANNELS; k++) { int d = lane + 32 * k; if (d < D) row[d] = accumulate ? row[d] + x[k] : x[k]; }
    }
    // x · row, summed over the warp: every lane gets the same value.
    __device__ __forceinline__ float lane_dot(const float *x, const float *row, int D, int lane) {
        float acc = 0.0f;
        #pragma unroll
        for (int k = 0; k < LANE_CHANNELS; k++) { int d = lane + 32 * k; if (d < D) acc += x[k] * row[d]; }
        return warp_sum(acc);
    }
    // acc += Σ_{s < n} w[s] · rows[s·stride] at the lane's channels (w is read by every lane).
    __device__ __forceinline__ void lane_weighted_rows(float *acc, const float *w, const float *rows, int stride, int n, int D, int lane) {
        for (int s = 0; s < n; s++) {
            float ws = w[s];
            const float *row = rows + (long long)s * stride;
            #pragma unroll
            for (int k = 0; k < LANE_CHANNELS; k++) { int d = lane + 32 * k; if (d < D) acc[k] += ws * row[d]; }
        }
    }

    #define GRID_STRIDE(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

    """#

    /// The forward pass's kernels, and the elementwise ones both passes share.
    public static let kernels: [Kernel] = [
        Kernel("embed_rows", [.init("out", .floats), .init("table", .constFloats), .init("tokens", .constInts),
                              .init("rows", .int32), .init("C", .int32)], body: #"""
            // out[r] = table[tokens[r]]: one block per row.
            int r = blockIdx.x;
            if (r >= rows) return;
            const float *src = table + (long long)tokens[r] * C;
            for (int c = threadIdx.x; c < C; c += blockDim.x) out[(long long)r * C + c] = src[c];
            """#),
        Kernel("rmsnorm_forward", [.init("out", .floats), .init("rstd", .floats), .init("inp", .constFloats),
                                   .init("weight", .constFloats), .init("N", .int32), .init("C", .int32), .init("eps", .float)], body: #"""
            // out = inp / sqrt(mean(inp²) + eps) · weight, one block per row; rstd (may be null) keeps the scale.
            int n = blockIdx.x;
            if (n >= N) return;
            const float *x = inp + (long long)n * C;
            float *y = out + (long long)n * C;
            float ss = 0.0f;
            for (int c = threadIdx.x; c < C; c += blockDim.x) ss += x[c] * x[c];
            ss = block_sum(ss);
            float scale = 1.0f / sqrtf(ss / (float)C + eps);
            if (rstd && threadIdx.x == 0) rstd[n] = scale;
            for (int c = threadIdx.x; c < C; c += blockDim.x) y[c] = x[c] * scale * weight[c];
            """#),
        Kernel("rope_rows", [.init("x", .floats), .init("rowStride", .int32), .init("cosTable", .constFloats),
                             .init("sinTable", .constFloats), .init("positions", .constInts), .init("rows", .int32),
                             .init("heads", .int32), .init("D", .int32), .init("sinSign", .float)], body: #"""
            // Rotate-half RoPE of `heads` heads at the start of each row, in place: channel i pairs with
            // i + D/2, angle from the (positions, D/2) tables. sinSign −1 is the inverse (backward).
            int half = D / 2;
            long long total = (long long)rows * heads * half;
            GRID_STRIDE(t, total) {
                int i = (int)(t % half);
                int h = (int)(t / half % heads);
                int r = (int)(t / ((long long)half * heads));
                float *v = x + (long long)r * rowStride + (long long)h * D;
                long long at = (long long)positions[r] * half + i;
                float c = cosTable[at], s = sinSign * sinTable[at];
                float a = v[i], b = v[i + half];
                v[i] = a * c - b * s;
                v[i + half] = b * c + a * s;
            }
            """#),
        Kernel("store_kv", [.init("kCache", .floats), .init("vCache", .floats), .init("qkv", .constFloats),
                            .init("rowStride", .int32), .init("keyOffset", .int32), .init("kvWidth", .int32),
                            .init("slots", .constInts), .init("positions", .constInts), .init("rows", .int32),
                            .init("S", .int32)], body: #"""
            // Copies each row's keys and values (kvWidth each, keys at keyOffset, values right after)
            // into the caches (slots, S, kvWidth) at the row's slot and position.
            long long total = (long long)rows * kvWidth;
            GRID_STRIDE(t, total) {
                int c = (int)(t % kvWidth), r = (int)(t / kvWidth);
                const float *row = qkv + (long long)r * rowStride + keyOffset;
                long long at = ((long long)slots[r] * S + positions[r]) * kvWidth + c;
                kCache[at] = row[c];
                vCache[at] = row[kvWidth + c];
            }
            """#),
        Kernel("attention_rows", [.init("out", .floats), .init("q", .constFloats), .init("qStride", .int32),
                                  .init("kCache", .constFloats), .init("vCache", .constFloats), .init("slots", .constInts),
                                  .init("positions", .constInts), .init("R", .int32), .init("S", .int32), .init("NH", .int32),
                                  .init("KVH", .int32), .init("D", .int32)], body: #"""
            // Causal grouped-query attention for one (row, head) per block: the row attends to cache
            // positions 0...positions[r] of its slot; head h reads KV head h / (NH / KVH).
            // Dynamic shared memory: S scores.
            extern __shared__ float scores[];
            int r = blockIdx.x, h = blockIdx.y;
            if (r >= R || h >= NH) return;
            int kvStride = KVH * D, visible = positions[r] + 1;
            const float *qh = q + (long long)r * qStride + (long long)h * D;
            long long base = (long long)slots[r] * S * kvStride + (long long)(h / (NH / KVH)) * D;
            float scale = 1.0f / sqrtf((float)D);
            float mx = NEG_INF;
            for (int s = threadIdx.x; s < visible; s += blockDim.x) {
                const float *k = kCache + base + (long long)s * kvStride;
                float acc = 0.0f;
                for (int d = 0; d < D; d++) acc += qh[d] * k[d];
                scores[s] = acc * scale;
                mx = fmaxf(mx, scores[s]);
            }
            float inv = softmax_exps(scores, visible, mx);
            for (int d = threadIdx.x; d < D; d += blockDim.x) {
                float acc = 0.0f;
                for (int s = 0; s < visible; s++) acc += scores[s] * vCache[base + (long long)s * kvStride + d];
                out[(long long)r * NH * D + (long long)h * D + d] = acc * inv;
            }
            """#),
        Kernel("swiglu_forward", [.init("out", .floats), .init("gateUp", .constFloats), .init("N", .int32), .init("H", .int32)], body: #"""
            // out (N, H) = silu(gate) · up from gateUp (N, 2H) = [gate | up].
            GRID_STRIDE(t, (long long)N * H) {
                long long r = t / H, i = t % H;
                float g = gateUp[r * 2 * H + i], u = gateUp[r * 2 * H + H + i];
                out[t] = g / (1.0f + expf(-g)) * u;
            }
            """#),
        Kernel("swiglu_backward", [.init("dgateUp", .floats), .init("dout", .constFloats), .init("gateUp", .constFloats),
                                   .init("N", .int32), .init("H", .int32)], body: #"""
            // dgateUp = [dh · u · silu'(g) | dh · silu(g)] (written), silu'(g) = σ(g)(1 + g(1 − σ(g))).
            GRID_STRIDE(t, (long long)N * H) {
                long long r = t / H, i = t % H;
                float g = gateUp[r * 2 * H + i], u = gateUp[r * 2 * H + H + i], dh = dout[t];
                float s = 1.0f / (1.0f + expf(-g));
                dgateUp[r * 2 * H + H + i] = dh * g * s;
                dgateUp[r * 2 * H + i] = dh * u * s * (1.0f + g * (1.0f - s));
            }
            """#),
        Kernel("add_in_place", [.init("x", .floats), .init("y", .constFloats), .init("n", .int64)], body: #"""
            GRID_STRIDE(i, n) x[i] += y[i];
            """#),
        Kernel("add_bias_rows", [.init("out", .floats), .init("bias", .constFloats), .init("N", .int32), .init("OC", .int32)], body: #"""
            GRID_STRIDE(t, (long long)N * OC) out[t] += bias[t % OC];
            """#),
        Kernel("log_sum_exp_rows", [.init("out", .floats), .init("x", .constFloats), .init("rows", .int32), .init("n", .int32)], body: #"""
            // out[r] = log Σ exp(x[r]), stable (max first), one block per row.
            int r = blockIdx.x;
            if (r >= rows) return;
            const float *row = x + (long long)r * n;
            float mx = NEG_INF;
            for (int i = threadIdx.x; i < n; i += blockDim.x) mx = fmaxf(mx, row[i]);
            mx = block_max(mx);
            if (!is_finite(mx)) { if (threadIdx.x == 0) out[r] = mx; return; }
            float s = 0.0f;
            for (int i = threadIdx.x; i < n; i += blockDim.x) s += expf(row[i] - mx);
            s = block_sum(s);
            if (threadIdx.x == 0) out[r] = mx + logf(s);
            """#),
        Kernel("bf16_round", [.init("out", .bf16s), .init("inp", .constFloats), .init("n", .int64)], body: #"""
            GRID_STRIDE(i, n) out[i] = bf16_round(inp[i]);
            """#),
        Kernel("adamw_update", [.init("params", .floats), .init("grads", .constFloats), .init("m", .floats), .init("v", .floats),
                                .init("n", .int64), .init("beta1", .float), .init("beta2", .float), .init("eps", .float),
                                .init("stepSize", .float), .init("bc2Root", .float), .init("decay", .float)], body: #"""
            // torch.optim.AdamW: p ← p·decay − stepSize · m / (√v / √(1 − β2ᵗ) + ε), as Training/AdamW.swift.
            GRID_STRIDE(i, n) {
                float g = grads[i];
                float mi = beta1 * m[i] + (1.0f - beta1) * g;
                float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
                m[i] = mi;
                v[i] = vi;
                params[i] = params[i] * decay - stepSize * mi / (sqrtf(vi) / bc2Root + eps);
            }
            """#),
    ]


    /// Every kernel of the program.
    public static let all: [Kernel] = kernels + trainingKernels + beamKernels
    /// The kernels by name: every launch looks its kernel up (to check the arguments).
    static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The whole program: the prelude, then every kernel.
    public static let source = prelude + all.map(\.source).joined(separator: "\n")

    public static func kernel(_ name: String) -> Kernel? { byName[name] }
}
