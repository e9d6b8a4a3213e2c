// The launches of the training kernels whose grids are not one block per row: attention (a warp
// per row and head) and the two-pass column sums. The training pass and `llmrec cuda check`
// both launch through these, so the check runs the grids training runs.
import CUDABackend

/// Packed training rows, each sequence from position 0 (CUDATrainingTape's layout): per row, the
/// first and one-past-last row of its sequence and its position; the longest sequence.
public struct PackedRows {
    public let segStart, segEnd, positions: KernelArguments.Value
    public let rows, maxLength: Int

    public init(segStart: KernelArguments.Value, segEnd: KernelArguments.Value, positions: KernelArguments.Value, rows: Int, maxLength: Int) {
        (self.segStart, self.segEnd, self.positions, self.rows, self.maxLength) = (segStart, segEnd, positions, rows, maxLength)
    }
}

extension CUDADevice {
    /// Warps per block of the attention kernels (one row and head each).
    static let attentionWarps = 8

    /// The head sizes the warp-per-row kernels hold in registers (LANE_CHANNELS × 32).
    static let largestHeadSize = 256

    /// Causal attention: out (rows, NH·D) and the probabilities, probs[(r·NH + h)·maxLength + s],
    /// from q|k|v after RoPE (rows, QKV).
    public func attentionTrainForward(out: KernelArguments.Value, probs: KernelArguments.Value, qkv: KernelArguments.Value, QKV: Int,
                                      rows p: PackedRows, NH: Int, KVH: Int, D: Int) throws {
        try launch("attention_train_forward", grid: try attentionGrid("attention_train_forward", p.rows, NH: NH, D: D), block: 32 * Self.attentionWarps,
                   [out, probs, qkv, .int32(Int32(QKV)), p.segStart, p.positions] + shape(p, NH: NH, KVH: KVH, D: D))
    }

    /// d q|k|v += the attention's gradient given dout (rows, NH·D); `dscores` (rows · NH · maxLength) is scratch.
    public func attentionTrainBackward(dqkv: KernelArguments.Value, dscores: KernelArguments.Value, dout: KernelArguments.Value,
                                       probs: KernelArguments.Value, qkv: KernelArguments.Value, QKV: Int,
                                       rows p: PackedRows, NH: Int, KVH: Int, D: Int) throws {
        try launch("attention_train_backward_query", grid: try attentionGrid("attention_train_backward_query", p.rows, NH: NH, D: D), block: 32 * Self.attentionWarps,
                   [dqkv, dscores, dout, probs, qkv, .int32(Int32(QKV)), p.segStart, p.positions] + shape(p, NH: NH, KVH: KVH, D: D))
        try launch("attention_train_backward_key", grid: (p.rows, KVH), block: 64,
                   [dqkv, dscores, dout, probs, qkv, .int32(Int32(QKV)), p.segEnd, p.positions] + shape(p, NH: NH, KVH: KVH, D: D))
    }

    private func attentionGrid(_ kernel: String, _ rows: Int, NH: Int, D: Int) throws -> (x: Int, y: Int) {
        guard D <= Self.largestHeadSize else {
            throw CUDAError.launch(kernel: kernel, reason: "head size \(D): the GPU's training attention holds at most \(Self.largestHeadSize)")
        }
        return ((rows + Self.attentionWarps - 1) / Self.attentionWarps, NH)
    }

    private func shape(_ p: PackedRows, NH: Int, KVH: Int, D: Int) -> [KernelArguments.Value] {
        [.int32(Int32(p.rows)), .int32(Int32(NH)), .int32(Int32(KVH)), .int32(Int32(D)), .int32(Int32(p.maxLength))]
    }

    /// Rows per chunk of the column sums' first pass.
    static let columnChunkRows = 64

    /// out (C) += Σ_n a[n, c] · b[n, c] · rowScale[n] over N rows (b and rowScale optional), in two
    /// passes of a fixed order (the same sums every run): chunks of 64 rows, then the chunks.
    public func columnSumsAdd(_ out: KernelArguments.Value, _ a: KernelArguments.Value, times b: KernelArguments.Value? = nil,
                              rowScale: KernelArguments.Value? = nil, N: Int, C: Int) throws {
        guard N > 0, C > 0 else { return }
        let chunks = (N + Self.columnChunkRows - 1) / Self.columnChunkRows
        let partials = try allocate(Float.self, count: chunks * C)
        try launch("column_partial_sums", grid: ((C + 31) / 32, chunks), block: 256,
                   [partials.argument, a, b ?? .pointer(0), rowScale ?? .pointer(0), .int32(Int32(N)), .int32(Int32(C)),
                    .int32(Int32(Self.columnChunkRows))])
        try launch("column_sums_add", grid: (strideGrid(C), 1), block: 256, [out, partials.argument, .int32(Int32(chunks)), .int32(Int32(C))])
    }
}
