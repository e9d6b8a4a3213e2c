// The decoder forward pass, written as the math reads:
//   x = E[tokens]
//   for each layer:  h = RMSNorm(x)·(Wq, Wk, Wv) (+ biases); RoPE(q, k); cache k, v;
//                    x += Attention(q, K, V)·Woᵀ
//                    x += (silu(RMSNorm(x)·Wgateᵀ) ⊙ RMSNorm(x)·Wupᵀ)·Wdownᵀ
//   logits = RMSNorm(x)·Eᵀ (or lm_head) — only at the rows whose logits are asked for.
// Sequences are packed row after row (no padding rows); each continues its KV-cache slot.
// Legend: N = packed rows, C = hidden, H = MLP width, V = vocabulary, NH/KVH/D as in Attention.
import Foundation
import Kernels

public enum ModelError: Error, CustomStringConvertible {
    case tokenOutOfRange(Int32, vocabulary: Int)
    case contextFull(slot: Int, needed: Int, capacity: Int)
    case badSlot(Int, slots: Int)

    public var description: String {
        switch self {
        case .tokenOutOfRange(let id, let v): "token id \(id) is outside the vocabulary (0..<\(v))"
        case .contextFull(let slot, let needed, let capacity):
            "sequence \(slot) needs \(needed) positions but the cache holds \(capacity); shorten the input or raise the context size"
        case .badSlot(let s, let slots): "cache slot \(s) does not exist (0..<\(slots))"
        }
    }
}

public final class DecoderModel: @unchecked Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let parameters: ParameterBuffer
    let rope: RoPETable

    /// A model with zero weights; loaders fill `parameters`.
    public init(config: ModelConfig) {
        self.config = config
        layout = ParameterLayout(config)
        parameters = ParameterBuffer(count: layout.count)
        rope = RoPETable(headDim: config.headDim, theta: config.ropeTheta, maxPositions: config.maxPositions,
                         llama3Scaling: config.ropeScaling)
    }

    func w(_ t: LayerTensor, _ l: Int) -> UnsafeMutablePointer<Float> { parameters.view(layout.layers[l][t]!) }
    func wOpt(_ t: LayerTensor, _ l: Int) -> UnsafeMutablePointer<Float>? { layout.layers[l][t].map(parameters.view) }
    func g(_ t: GlobalTensor) -> UnsafeMutablePointer<Float> { parameters.view(layout.globals[t]!) }
    var outputHead: UnsafeMutablePointer<Float> { config.tieWordEmbeddings ? g(.embedding) : g(.lmHead) }

    /// Which rows get logits.
    public enum LogitRows: Sendable { case last, all }

    /// Runs `sequences[i]` as the continuation of cache slot `slots[i]` (default: slot i) and
    /// returns logits, (rows, V) row-major: the last row of each sequence, or every row.
    public func forward(_ sequences: [[Int32]], cache: KVCache, slots: [Int]? = nil, logits which: LogitRows = .last) throws -> [Float] {
        let cfg = config
        let (C, H, V, NH, KVH, D) = (cfg.hiddenSize, cfg.intermediateSize, cfg.vocabSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        let slots = slots ?? Array(sequences.indices)
        precondition(slots.count == sequences.count, "one slot per sequence")
        // Packed rows: slot and absolute position of each.
        var rows: [QueryRow] = []
        var tokens: [Int32] = []
        var lastRow: [Int] = []
        for (b, seq) in sequences.enumerated() where !seq.isEmpty {
            let slot = slots[b]
            guard slot >= 0, slot < cache.slots else { throw ModelError.badSlot(slot, slots: cache.slots) }
            let past = cache.lengths[slot]
            guard past + seq.count <= cache.capacity, past + seq.count <= cfg.maxPositions else {
                throw ModelError.contextFull(slot: slot, needed: past + seq.count, capacity: min(cache.capacity, cfg.maxPositions))
            }
            for (t, id) in seq.enumerated() {
                guard id >= 0, Int(id) < V else { throw ModelError.tokenOutOfRange(id, vocabulary: V) }
                rows.append(QueryRow(slot: slot, position: past + t))
                tokens.append(id)
            }
            lastRow.append(rows.count - 1)
        }
        let N = rows.count
        guard N > 0 else { return [] }

        let ws = Workspace(N: N, C: C, H: H, q: NH * D, kv: KVH * D, S: cache.capacity)
        defer { ws.free() }
        let x = ws.x, xn = ws.xn, q = ws.q, k = ws.k, v = ws.v, att = ws.att, gate = ws.gate, up = ws.up
        // x = E[tokens]
        let E = g(.embedding)
        for r in 0..<N { (x + r * C).update(from: E + Int(tokens[r]) * C, count: C) }

        let shape = AttentionShape(NH: NH, KVH: KVH, D: D)
        for l in 0..<cfg.layers {
            rmsNormForward(xn, x, w(.attnNorm, l), N: N, C: C, eps: cfg.rmsNormEps)
            matmulForward(q, xn, w(.wq, l), wOpt(.bq, l), N: N, C: C, OC: NH * D)
            matmulForward(k, xn, w(.wk, l), wOpt(.bk, l), N: N, C: C, OC: KVH * D)
            matmulForward(v, xn, w(.wv, l), wOpt(.bv, l), N: N, C: C, OC: KVH * D)
            let kc = cache.keys[l], vc = cache.values[l]
            for r in 0..<N {
                let pos = Int(rows[r].position)
                rope.apply(q + r * NH * D, heads: NH, pos: pos)
                rope.apply(k + r * KVH * D, heads: KVH, pos: pos)
                let at = (Int(rows[r].slot) * cache.capacity + pos) * KVH * D
                (kc + at).update(from: k + r * KVH * D, count: KVH * D)
                (vc + at).update(from: v + r * KVH * D, count: KVH * D)
            }
            rows.withUnsafeBufferPointer { rp in
                attentionForward(att, q, kc, vc, rows: rp.baseAddress!, R: N, S: cache.capacity, shape: shape, scratch: ws.scores)
            }
            matmulForward(xn, att, w(.wo, l), nil, N: N, C: NH * D, OC: C)
            addInPlace(x, xn, count: N * C)

            rmsNormForward(xn, x, w(.mlpNorm, l), N: N, C: C, eps: cfg.rmsNormEps)
            matmulForward(gate, xn, w(.wGate, l), nil, N: N, C: C, OC: H)
            matmulForward(up, xn, w(.wUp, l), nil, N: N, C: C, OC: H)
            swigluForward(gate, gate, up, count: N * H)
            matmulForward(xn, gate, w(.wDown, l), nil, N: N, C: H, OC: C)
            addInPlace(x, xn, count: N * C)
        }
        for (b, seq) in sequences.enumerated() where !seq.isEmpty { cache.lengths[slots[b]] += seq.count }

        // The output head runs only where logits are used.
        let outRows = which == .all ? Array(0..<N) : lastRow
        for (i, r) in outRows.enumerated() { (xn + i * C).update(from: x + r * C, count: C) }
        rmsNormForward(xn, xn, g(.finalNorm), N: outRows.count, C: C, eps: cfg.rmsNormEps)
        var logits = [Float](repeating: 0, count: outRows.count * V)
        logits.withUnsafeMutableBufferPointer { matmulForward($0.baseAddress!, xn, outputHead, nil, N: outRows.count, C: C, OC: V) }
        return logits
    }
}

/// Activations of one forward call, allocated once per call (never inside the layer loop).
private struct Workspace {
    let x, xn, q, k, v, att, gate, up, scores: UnsafeMutablePointer<Float>

    init(N: Int, C: Int, H: Int, q qw: Int, kv: Int, S: Int) {
        x = .allocate(capacity: N * C)
        xn = .allocate(capacity: N * max(C, H))
        q = .allocate(capacity: N * qw)
        k = .allocate(capacity: N * kv)
        v = .allocate(capacity: N * kv)
        att = .allocate(capacity: N * qw)
        gate = .allocate(capacity: N * H)
        up = .allocate(capacity: N * H)
        scores = .allocate(capacity: max(1, ProcessInfo.processInfo.activeProcessorCount) * S)
    }

    func free() { for p in [x, xn, q, k, v, att, gate, up, scores] { p.deallocate() } }
}
