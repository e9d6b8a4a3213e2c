// The training pass's CUDA kernels (attention backward, norms, SwiGLU, embedding, the losses'
// rows, dropout, clipping and AdamW), part of the one program KernelProgram compiles.

extension KernelProgram {
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
}
