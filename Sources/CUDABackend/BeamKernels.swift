// The beam search's CUDA kernels (attention over beam rows, copying cache slots), part of the one
// program KernelProgram compiles.

extension KernelProgram {
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
}
