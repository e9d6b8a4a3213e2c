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


    /// The training pass's kernels (TrainingKernels in the same program).
    static let trainingKernels: [Kernel] = [
        Kernel("attention_train_forward", [.init("out", .floats), .init("probs", .floats), .init("qkv", .constFloats), .init("QKV", .int32),
                                           .init("segStart", .constInts), .init("positions", .constInts), .init("N", .int32), .init("NH", .int32),
                                           .init("KVH", .int32), .init("D", .int32), .init("maxLen", .int32)], body: #"""
            // Causal attention over packed rows that each start their sequence at position 0: row r
            // attends to rows segStart[r] + s, s = 0...positions[r]. One warp per (row, head), its
            // lanes over the channels (D ≤ 256), so that every key and value row is read whole by
            // one warp at once; the probabilities are kept for the backward pass at
            // probs[(r·NH + h)·maxLen + s].
            int lane = threadIdx.x & 31, r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), h = blockIdx.y;
            if (r >= N || h >= NH) return;
            int qw = NH * D, kvw = KVH * D, visible = positions[r] + 1;
            const float *q = qkv + (long long)r * QKV + (long long)h * D;
            const float *keys = qkv + (long long)segStart[r] * QKV + qw + (long long)(h / (NH / KVH)) * D;
            float *p = probs + ((long long)r * NH + h) * maxLen;
            float scale = 1.0f / sqrtf((float)D);
            float qr[LANE_CHANNELS], o[LANE_CHANNELS] = {};
            lane_load(qr, q, D, lane);
            // Scores, scaled, and their maximum (every lane holds each score after the warp's sum).
            float mx = NEG_INF;
            for (int s = 0; s < visible; s++) {
                float score = lane_dot(qr, keys + (long long)s * QKV, D, lane) * scale;
                if (lane == 0) p[s] = score;
                mx = fmaxf(mx, score);
            }
            __syncwarp();
            float sum = 0.0f;
            for (int s = lane; s < visible; s += 32) { float e = expf(p[s] - mx); p[s] = e; sum += e; }
            float inv = 1.0f / warp_sum(sum);
            for (int s = lane; s < visible; s += 32) p[s] *= inv;
            __syncwarp();
            lane_weighted_rows(o, p, keys + kvw, QKV, visible, D, lane);
            lane_store(out + (long long)r * qw + (long long)h * D, o, D, lane, false);
            """#),
        Kernel("attention_train_backward_query", [.init("dqkv", .floats), .init("dscores", .floats), .init("dout", .constFloats),
                                                  .init("probs", .constFloats), .init("qkv", .constFloats), .init("QKV", .int32),
                                                  .init("segStart", .constInts), .init("positions", .constInts), .init("N", .int32),
                                                  .init("NH", .int32), .init("KVH", .int32), .init("D", .int32), .init("maxLen", .int32)], body: #"""
            // For query row r and head h: dP_s = dO·V_s, dS_s = P_s (dP_s − Σ P·dP) / √D (kept in
            // dscores for the key pass), dQ += Σ_s dS_s K_s. One warp per (row, head), lanes over
            // the channels, as attention_train_forward.
            int lane = threadIdx.x & 31, r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), h = blockIdx.y;
            if (r >= N || h >= NH) return;
            int qw = NH * D, kvw = KVH * D, visible = positions[r] + 1;
            const float *dO = dout + (long long)r * qw + (long long)h * D;
            const float *keys = qkv + (long long)segStart[r] * QKV + qw + (long long)(h / (NH / KVH)) * D;
            const float *values = keys + kvw;
            const float *p = probs + ((long long)r * NH + h) * maxLen;
            float *ds = dscores + ((long long)r * NH + h) * maxLen;
            float g[LANE_CHANNELS], acc[LANE_CHANNELS] = {};
            lane_load(g, dO, D, lane);
            float dot = 0.0f;
            for (int s = 0; s < visible; s++) {
                float dp = lane_dot(g, values + (long long)s * QKV, D, lane);
                if (lane == 0) ds[s] = dp;
                dot += p[s] * dp;
            }
            __syncwarp();
            float scale = 1.0f / sqrtf((float)D);
            for (int s = lane; s < visible; s += 32) ds[s] = p[s] * (ds[s] - dot) * scale;
            __syncwarp();
            lane_weighted_rows(acc, ds, keys, QKV, visible, D, lane);
            lane_store(dqkv + (long long)r * QKV + (long long)h * D, acc, D, lane, true);
            """#),
        Kernel("attention_train_backward_key", [.init("dqkv", .floats), .init("dscores", .constFloats), .init("dout", .constFloats),
                                                .init("probs", .constFloats), .init("qkv", .constFloats), .init("QKV", .int32),
                                                .init("segEnd", .constInts), .init("positions", .constInts), .init("N", .int32),
                                                .init("NH", .int32), .init("KVH", .int32), .init("D", .int32), .init("maxLen", .int32)], body: #"""
            // For key row j and KV head g: dK += Σ_h Σ_i dS[i, h, pos_j] Q_i,h and dV += Σ_h Σ_i P[i, h, pos_j] dO_i,h
            // over the query heads h of the group and the rows i = j ..< segEnd[j] of its sequence
            // (the ones that see it). One block per (row, KV head), one thread per channel.
            int j = blockIdx.x, g = blockIdx.y;
            if (j >= N || g >= KVH) return;
            int qw = NH * D, kvw = KVH * D, group = NH / KVH, s = positions[j];
            float *dk = dqkv + (long long)j * QKV + qw + (long long)g * D;
            float *dv = dk + kvw;
            for (int d = threadIdx.x; d < D; d += blockDim.x) {
                float ak = 0.0f, av = 0.0f;
                for (int h = g * group; h < (g + 1) * group; h++) {
                    for (int i = j; i < segEnd[j]; i++) {
                        long long at = ((long long)i * NH + h) * maxLen + s;
                        ak += dscores[at] * qkv[(long long)i * QKV + (long long)h * D + d];
                        av += probs[at] * dout[(long long)i * qw + (long long)h * D + d];
                    }
                }
                dk[d] += ak;
                dv[d] += av;
            }
            """#),
        Kernel("rmsnorm_backward_input", [.init("dinp", .floats), .init("dout", .constFloats), .init("inp", .constFloats),
                                          .init("weight", .constFloats), .init("rstd", .constFloats), .init("N", .int32), .init("C", .int32)], body: #"""
            // For y = x·rstd·w: dx += rstd·(dy·w) − rstd³·mean(dy·w·x)·x, one block per row.
            int n = blockIdx.x;
            if (n >= N) return;
            const float *x = inp + (long long)n * C, *dy = dout + (long long)n * C;
            float *dx = dinp + (long long)n * C;
            float r = rstd[n], gx = 0.0f;
            for (int c = threadIdx.x; c < C; c += blockDim.x) gx += dy[c] * weight[c] * x[c];
            gx = block_sum(gx);
            float k = r * r * r * gx / (float)C;
            for (int c = threadIdx.x; c < C; c += blockDim.x) dx[c] += r * dy[c] * weight[c] - k * x[c];
            """#),
        Kernel("column_partial_sums", [.init("partials", .floats), .init("a", .constFloats), .init("b", .constFloats),
                                       .init("rowScale", .constFloats), .init("N", .int32), .init("C", .int32), .init("chunkRows", .int32)], body: #"""
            // partials[k·C + c] = Σ a[n, c] · b[n, c] · rowScale[n] over the rows n of chunk k
            // (k·chunkRows ..< (k + 1)·chunkRows); b and rowScale may be null (a factor 1). The first
            // of two deterministic passes (no atomics) of a column sum over many rows: RMSNorm's
            // weight gradient (a = dy, b = x, rowScale = rstd) and a bias's (a = dy); column_sums_add
            // adds the chunks up. Blocks of 32 columns × (blockDim.x / 32) row lanes, grid (columns / 32, chunks).
            int tx = threadIdx.x & 31, ty = threadIdx.x >> 5, lanes = blockDim.x >> 5;
            int c = blockIdx.x * 32 + tx, chunk = blockIdx.y;
            int first = chunk * chunkRows, last = min(N, first + chunkRows);
            float acc = 0.0f;
            if (c < C) {
                for (int n = first + ty; n < last; n += lanes) {
                    float v = a[(long long)n * C + c];
                    if (b) v *= b[(long long)n * C + c];
                    if (rowScale) v *= rowScale[n];
                    acc += v;
                }
            }
            __shared__ float part[32][33];
            part[ty][tx] = acc;
            __syncthreads();
            if (ty == 0 && c < C) {
                float sum = 0.0f;
                for (int k = 0; k < lanes; k++) sum += part[k][tx];
                partials[(long long)chunk * C + c] = sum;
            }
            """#),
        Kernel("column_sums_add", [.init("out", .floats), .init("inp", .constFloats), .init("N", .int32), .init("OC", .int32)], body: #"""
            // out (OC) += Σ_n inp (N, OC), one thread per column: for few rows (column_partial_sums's chunks).
            GRID_STRIDE(o, OC) {
                float acc = 0.0f;
                for (int n = 0; n < N; n++) acc += inp[(long long)n * OC + o];
                out[o] += acc;
            }
            """#),
        Kernel("scatter_add_rows", [.init("dst", .floats), .init("src", .constFloats), .init("rows", .constInts), .init("R", .int32),
                                    .init("C", .int32)], body: #"""
            // dst[rows[i]] += src[i] for distinct rows (the output rows' gradient into the stream's).
            GRID_STRIDE(t, (long long)R * C) {
                long long i = t / C, c = t % C;
                dst[(long long)rows[i] * C + c] += src[t];
            }
            """#),
        Kernel("embedding_backward", [.init("dtable", .floats), .init("dx", .constFloats), .init("tokens", .constInts), .init("N", .int32),
                                      .init("C", .int32)], body: #"""
            // dE[tokens[r]] += dx[r]; tokens repeat, so the adds are atomic.
            GRID_STRIDE(t, (long long)N * C) {
                long long r = t / C, c = t % C;
                atomicAdd(dtable + (long long)tokens[r] * C + c, dx[t]);
            }
            """#),
        Kernel("softmax_xent_rows", [.init("grad", .floats), .init("losses", .floats), .init("logits", .constFloats),
                                     .init("targets", .constInts), .init("scales", .constFloats), .init("R", .int32), .init("V", .int32)], body: #"""
            // Cross-entropy over the whole row (CE, IGD): losses[r] = lse − z_y and
            // grad = scale·(softmax − onehot(y)), written. One block per row.
            int r = blockIdx.x;
            if (r >= R) return;
            const float *z = logits + (long long)r * V;
            float *g = grad + (long long)r * V;
            float mx = NEG_INF;
            for (int v = threadIdx.x; v < V; v += blockDim.x) mx = fmaxf(mx, z[v]);
            mx = block_max(mx);
            float sum = 0.0f;
            for (int v = threadIdx.x; v < V; v += blockDim.x) sum += expf(z[v] - mx);
            sum = block_sum(sum);
            float lse = mx + logf(sum), scale = scales[r];
            int y = targets[r];
            for (int v = threadIdx.x; v < V; v += blockDim.x) g[v] = scale * (expf(z[v] - lse) - (v == y ? 1.0f : 0.0f));
            if (threadIdx.x == 0) losses[r] = lse - z[y];
            """#),
        Kernel("masked_softmax_rows", [.init("grad", .floats), .init("losses", .floats), .init("logits", .constFloats),
                                       .init("validStart", .constInts), .init("validTokens", .constInts), .init("targets", .constInts),
                                       .init("scales", .constFloats), .init("tau", .float), .init("R", .int32), .init("V", .int32)], body: #"""
            // MSL's masked softmax at temperature τ over the valid tokens validTokens[validStart[r] ..<
            // validStart[r + 1]]: losses[r] = lse_τ − z_y/τ; grad_v = scale·softmax_τ(v)/τ on the valid
            // set, then grad_y −= scale/τ (the rest of the row must be zero already). One block per row.
            int r = blockIdx.x;
            if (r >= R) return;
            const float *z = logits + (long long)r * V;
            float *g = grad + (long long)r * V;
            int first = validStart[r], count = validStart[r + 1] - first;
            float mx = NEG_INF;
            for (int i = threadIdx.x; i < count; i += blockDim.x) mx = fmaxf(mx, z[validTokens[first + i]] / tau);
            mx = block_max(mx);
            float sum = 0.0f;
            for (int i = threadIdx.x; i < count; i += blockDim.x) sum += expf(z[validTokens[first + i]] / tau - mx);
            sum = block_sum(sum);
            float lse = mx + logf(sum), scale = scales[r];
            int y = targets[r];
            for (int i = threadIdx.x; i < count; i += blockDim.x) {
                int v = validTokens[first + i];
                g[v] = scale * expf(z[v] / tau - lse) / tau;
            }
            __syncthreads();
            // The target's −1 after the softmax terms (as the CPU does, wherever the target lies).
            if (threadIdx.x == 0) {
                g[y] -= scale / tau;
                losses[r] = lse - z[y] / tau;
            }
            """#),
        Kernel("dropout_rows", [.init("out", .floats), .init("x", .constFloats), .init("N", .int32), .init("C", .int32),
                                .init("threshold", .int64), .init("keepScale", .float), .init("seed", .int64), .init("accumulate", .int32)], body: #"""
            // Inverted dropout with Kernels/LowRank.swift's mask, bit for bit: element (n, c) is dropped
            // when the top 24 bits of the (c + 1)-th SplitMix64 word after seed ^ n·0xD1B54A32D192ED03
            // fall below threshold. out = x·keepScale or 0 (accumulate: out +=). One thread per element.
            GRID_STRIDE(t, (long long)N * C) {
                unsigned long long n = (unsigned long long)(t / C), c = (unsigned long long)(t % C);
                unsigned long long z = ((unsigned long long)seed ^ (n * 0xD1B54A32D192ED03ull)) + (c + 1) * 0x9E3779B97F4A7C15ull;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
                z ^= z >> 31;
                float v = (z >> 40) < (unsigned long long)threshold ? 0.0f : x[t] * keepScale;
                if (accumulate) out[t] += v; else out[t] = v;
            }
            """#),
        Kernel("sum_squares", [.init("partials", .floats), .init("x", .constFloats), .init("n", .int64)], body: #"""
            // partials[block] = Σ x² over this block's grid-stride share (the host adds the partials in order).
            float acc = 0.0f;
            GRID_STRIDE(i, n) acc += x[i] * x[i];
            acc = block_sum(acc);
            if (threadIdx.x == 0) partials[blockIdx.x] = acc;
            """#),
        Kernel("scale_values", [.init("x", .floats), .init("n", .int64), .init("factor", .float)], body: #"""
            GRID_STRIDE(i, n) x[i] *= factor;
            """#),
    ]

    /// The beam search's kernels.
    static let beamKernels: [Kernel] = [
        Kernel("attention_beam_rows", [.init("out", .floats), .init("q", .constFloats), .init("qStride", .int32),
                                       .init("promptKeys", .constFloats), .init("promptValues", .constFloats), .init("promptSlots", .constInts),
                                       .init("promptLengths", .constInts), .init("promptCapacity", .int32),
                                       .init("beamKeys", .constFloats), .init("beamValues", .constFloats), .init("beamSlots", .constInts),
                                       .init("generated", .constInts), .init("depth", .int32),
                                       .init("R", .int32), .init("NH", .int32), .init("KVH", .int32), .init("D", .int32)], body: #"""
            // One beam row per block (x) and head (y), after store_kv has put every row's keys and
            // values into its beam slot: the row attends to its prompt's positions 0 ..< promptLength
            // and to its own continuation 0 ... generated (Kernels' attentionSplitKV). Dynamic shared
            // memory: the most scores any row has (promptLength + generated + 1, from the launch).
            extern __shared__ float scores[];
            int r = blockIdx.x, h = blockIdx.y;
            if (r >= R || h >= NH) return;
            int kvw = KVH * D, kvh = h / (NH / KVH);
            int P = promptLengths[r], n = P + generated[r] + 1;
            const float *qh = q + (long long)r * qStride + (long long)h * D;
            const float *pk = promptKeys + (long long)promptSlots[r] * promptCapacity * kvw + kvh * D;
            const float *pv = promptValues + (long long)promptSlots[r] * promptCapacity * kvw + kvh * D;
            const float *bk = beamKeys + (long long)beamSlots[r] * depth * kvw + kvh * D;
            const float *bv = beamValues + (long long)beamSlots[r] * depth * kvw + kvh * D;
            float scale = 1.0f / sqrtf((float)D);
            float mx = NEG_INF;
            for (int s = threadIdx.x; s < n; s += blockDim.x) {
                const float *k = s < P ? pk + (long long)s * kvw : bk + (long long)(s - P) * kvw;
                float acc = 0.0f;
                for (int d = 0; d < D; d++) acc += qh[d] * k[d];
                scores[s] = acc * scale;
                mx = fmaxf(mx, scores[s]);
            }
            float inv = softmax_exps(scores, n, mx);
            for (int d = threadIdx.x; d < D; d += blockDim.x) {
                float acc = 0.0f;
                for (int s = 0; s < P; s++) acc += scores[s] * pv[(long long)s * kvw + d];
                for (int s = P; s < n; s++) acc += scores[s] * bv[(long long)(s - P) * kvw + d];
                out[(long long)r * NH * D + (long long)h * D + d] = acc * inv;
            }
            """#),
        Kernel("copy_beam_slots", [.init("dst", .floats), .init("src", .constFloats), .init("parents", .constInts), .init("lengths", .constInts),
                                   .init("slots", .int32), .init("slotWidth", .int64), .init("kvw", .int32)], body: #"""
            // Re-selection: dst slot j = the first lengths[j] positions (kvw floats each) of src slot
            // parents[j]. Slots are slotWidth floats apart. One block row (y) per slot.
            int j = blockIdx.y;
            if (j >= slots) return;
            long long count = (long long)lengths[j] * kvw;
            const float *from = src + (long long)parents[j] * slotWidth;
            float *to = dst + (long long)j * slotWidth;
            for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) to[i] = from[i];
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
