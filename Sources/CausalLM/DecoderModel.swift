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
import Synchronization

public enum ModelError: Error, CustomStringConvertible {
    case tokenOutOfRange(Int32, vocabulary: Int)
    case contextFull(slot: Int, needed: Int, capacity: Int)
    case badSlot(Int, slots: Int)
    case duplicateSlots([Int])
    case sequenceTooLong(index: Int, length: Int, context: Int)

    public var description: String {
        switch self {
        case .tokenOutOfRange(let id, let v): "token id \(id) is outside the vocabulary (0..<\(v))"
        case .contextFull(let slot, let needed, let capacity):
            "sequence \(slot) needs \(needed) positions but the cache holds \(capacity); shorten the input or raise the context size"
        case .badSlot(let s, let slots): "cache slot \(s) does not exist (0..<\(slots))"
        case .duplicateSlots(let slots): "cache slots \(slots) repeat; each sequence of a batch needs its own slot"
        case .sequenceTooLong(let i, let n, let c): "sequence \(i) has \(n) tokens but the model's context holds \(c); shorten the histories (data prepare --history)"
        }
    }
}

public final class DecoderModel: @unchecked Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let parameters: ParameterBuffer
    public let rope: RoPETable
    let workspaces = Mutex<Workspace?>(nil)
    let tapes = Mutex<TrainingTape?>(nil)
    /// The last training pass's logits array, handed back by `recycleLogits`: a sequence batch's
    /// is hundreds of MB, and fresh pages each pass cost their clearing.
    let logitsStore = Mutex<[Float]>([])
    /// The GGUF tensors the weights were loaded from, when they were (see GGUFOrigin).
    public internal(set) var ggufOrigin: GGUFOrigin?

    /// A model whose weights are zero, or left for a loader to fill (`zeroed: false`).
    public init(config: ModelConfig, zeroed: Bool = true) {
        self.config = config
        layout = ParameterLayout(config)
        parameters = ParameterBuffer(count: layout.count, zeroed: zeroed)
        rope = RoPETable(headDim: config.headDim, theta: config.ropeTheta, maxPositions: config.maxPositions,
                         llama3Scaling: config.ropeScaling, frequencyFactors: config.ropeFrequencyFactors)
    }

    func w(_ t: LayerTensor, _ l: Int) -> UnsafeMutablePointer<Float> { parameters.view(layout.layers[l][t]!) }
    func wOpt(_ t: LayerTensor, _ l: Int) -> UnsafeMutablePointer<Float>? { layout.layers[l][t].map(parameters.view) }
    func g(_ t: GlobalTensor) -> UnsafeMutablePointer<Float> { parameters.view(layout.globals[t]!) }
    var outputHead: UnsafeMutablePointer<Float> { config.tieWordEmbeddings ? g(.embedding) : g(.lmHead) }

    /// Which rows get logits.
    public enum LogitRows: Sendable { case last, all }

    /// Runs `sequences[i]` as the continuation of cache slot `slots[i]` (default: slot i) and
    /// returns logits, (rows, V) row-major: the last row of each sequence, or every row.
    /// With `hiddenOnly`, returns the final-normed hidden states (rows, C) instead, for callers
    /// that need only some tokens' logits (constrained decoding).
    /// `packed`: the same weights packed for the panel kernel (same results within float rounding).
    public func forward(_ sequences: [[Int32]], cache: KVCache, slots: [Int]? = nil, logits which: LogitRows = .last,
                        hiddenOnly: Bool = false, packed: InferenceWeights? = nil) throws -> [Float] {
        let cfg = config
        let (C, NH, KVH, D) = (cfg.hiddenSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        let slots = slots ?? Array(sequences.indices)
        let (segments, tokens, lastRow) = try cfg.continuationRows(sequences, slots: slots, lengths: cache.lengths, capacity: cache.capacity)
        let N = tokens.count
        guard N > 0 else { return [] }

        let ws = workspace(N: N, scratch: segments.map(\.rows).max()! * cache.capacity)
        defer { workspaces.withLock { $0 = ws } }
        let x = ws.x, xn = ws.xn
        embed(tokens, into: x)
        let qw = NH * D, kvw = KVH * D, QKV = qw + 2 * kvw
        let shape = AttentionShape(NH: NH, KVH: KVH, D: D)
        for l in 0..<cfg.layers {
            try layer(l, x: x, N: N, ws: ws, packed: packed) { qkv, att in
                let kc = cache.keys[l], vc = cache.values[l]
                for seg in segments {
                    for i in 0..<seg.rows {
                        let pos = seg.firstPosition + i
                        let row = qkv + (seg.firstRow + i) * QKV
                        rope.apply(row, heads: NH, pos: pos)
                        rope.apply(row + qw, heads: KVH, pos: pos)
                        let at = (seg.slot * cache.capacity + pos) * kvw
                        (kc + at).update(from: row + qw, count: kvw)
                        (vc + at).update(from: row + qw + kvw, count: kvw)
                    }
                }
                attentionForward(att, qkv, qStride: QKV, kc, vc, segments: segments, S: cache.capacity, shape: shape, scratch: ws.scores)
            }
        }
        for (b, seq) in sequences.enumerated() where !seq.isEmpty { cache.lengths[slots[b]] += seq.count }

        // The output head runs only where logits are used.
        let outRows = which == .all ? Array(0..<N) : lastRow
        for (i, r) in outRows.enumerated() { (xn + i * C).update(from: x + r * C, count: C) }
        rmsNormForward(xn, xn, g(.finalNorm), N: outRows.count, C: C, eps: cfg.rmsNormEps)
        if hiddenOnly { return Array(UnsafeBufferPointer(start: xn, count: outRows.count * C)) }
        return headLogits(xn, rows: outRows.count, packed: packed)
    }

    /// logits (rows, V) = hidden (rows, C) · Eᵀ (or lm_head): the whole vocabulary.
    public func headLogits(_ hidden: UnsafePointer<Float>, rows: Int, packed: InferenceWeights? = nil) -> [Float] {
        let (C, V) = (config.hiddenSize, config.vocabSize)
        var logits = [Float](repeating: 0, count: rows * V)
        logits.withUnsafeMutableBufferPointer { linear($0.baseAddress!, hidden, outputHead, nil, N: rows, C: C, OC: V, packed?.head) }
        return logits
    }

    /// The logits of only `tokens` for one hidden row: the head's rows for those tokens, gathered.
    /// The same dot products as the full product, for a fraction of the vocabulary.
    public func headLogits(_ hidden: UnsafePointer<Float>, tokens: ArraySlice<Int32>, into out: inout [Float]) {
        let C = config.hiddenSize, head = outputHead
        out.removeAll(keepingCapacity: true)
        for t in tokens { out.append(dot(hidden, head + Int(t) * C, C)) }
    }
}

/// The packed rows of a pass that continues cache slots (no padding rows), for every backend.
extension ModelConfig {
    /// Checks `sequences` (sequence i continues slot `slots[i]`, whose cache holds `lengths[slot]`
    /// of `capacity` positions) and packs them: one attention segment per non-empty sequence, the
    /// tokens row after row, and each sequence's last row.
    public func continuationRows(_ sequences: [[Int32]], slots: [Int], lengths: [Int], capacity: Int) throws
        -> (segments: [AttentionSegment], tokens: [Int32], lastRows: [Int]) {
        precondition(slots.count == sequences.count, "one slot per sequence")
        guard Set(slots).count == slots.count else { throw ModelError.duplicateSlots(slots) }
        var segments: [AttentionSegment] = [], tokens: [Int32] = [], lastRows: [Int] = []
        for (b, seq) in sequences.enumerated() where !seq.isEmpty {
            let slot = slots[b]
            guard slot >= 0, slot < lengths.count else { throw ModelError.badSlot(slot, slots: lengths.count) }
            let past = lengths[slot]
            guard past + seq.count <= capacity, past + seq.count <= maxPositions else {
                throw ModelError.contextFull(slot: slot, needed: past + seq.count, capacity: min(capacity, maxPositions))
            }
            segments.append(AttentionSegment(firstRow: tokens.count, rows: seq.count, slot: slot, firstPosition: past))
            for id in seq {
                guard id >= 0, Int(id) < vocabSize else { throw ModelError.tokenOutOfRange(id, vocabulary: vocabSize) }
                tokens.append(id)
            }
            lastRows.append(tokens.count - 1)
        }
        return (segments, tokens, lastRows)
    }
}

extension DecoderModel {
    /// x = E[tokens]
    func embed(_ tokens: [Int32], into x: UnsafeMutablePointer<Float>) {
        let C = config.hiddenSize, E = g(.embedding)
        for (r, t) in tokens.enumerated() { (x + r * C).update(from: E + Int(t) * C, count: C) }
    }

    /// One decoder layer (LayerBackend.swift's `decoderLayer`) on N rows of the residual stream x,
    /// in place, on the CPU. `attend(qkv, att)` applies RoPE, stores keys and values and writes the
    /// attention output: the one part that depends on where the keys live (a KV cache, or a shared
    /// prompt plus beam suffixes).
    func layer(_ l: Int, x: UnsafeMutablePointer<Float>, N: Int, ws: Workspace, packed: InferenceWeights? = nil,
               attend: (_ qkv: UnsafeMutablePointer<Float>, _ att: UnsafeMutablePointer<Float>) -> Void) throws {
        try withoutActuallyEscaping(attend) { attend in
            let backend = CPULayerBackend(model: self, packed: packed, attendStep: attend)
            try decoderLayer(l, rows: N, on: backend, LayerBuffers(x: x, xn: ws.xn, qkv: ws.qkv, att: ws.att, gateUp: ws.gateUp, hidden: ws.hidden))
        }
    }

    /// out = inp · Wᵀ (+ bias): through the packed copy when there is one, else sgemm.
    fileprivate func linear(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                            _ bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int, _ packed: PanelWeights?) {
        if let packed {
            packed.multiply(out, inp, bias: bias, rows: N)
        } else {
            matmulForward(out, inp, weight, bias, N: N, C: C, OC: OC)
        }
    }

    /// The activations of the last call, reused when large enough: a fresh 30 MB each call costs
    /// page faults (4% of the forward pass in perf). Taken out while in use, so calls on several
    /// threads each get their own. `scratch`: attention scores per worker.
    func workspace(N: Int, scratch: Int) -> Workspace {
        let need = Workspace.Size(N: N, scratch: Parallel.workers * scratch)
        if let ws = workspaces.withLock({ w -> Workspace? in defer { w = nil }; return w }), ws.size.covers(need) { return ws }
        return Workspace(config: config, size: need)
    }
}

/// The CPU's steps of a layer: Sources/Kernels on the model's flat parameters (and their packed
/// copies for inference). Wq, Wk, Wv (and biases) run as one product, as do Wgate and Wup, so the
/// input is packed once instead of 2–3 times.
struct CPULayerBackend: LayerBackend {
    let model: DecoderModel
    let packed: InferenceWeights?
    let attendStep: (_ qkv: UnsafeMutablePointer<Float>, _ att: UnsafeMutablePointer<Float>) -> Void

    func rmsNorm(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafeMutablePointer<Float>, _ norm: LayerTensor, layer l: Int, rows: Int) {
        rmsNormForward(out, inp, model.w(norm, l), N: rows, C: model.config.hiddenSize, eps: model.config.rmsNormEps)
    }

    func linear(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafeMutablePointer<Float>, _ product: LayerProduct, layer l: Int, rows: Int) {
        let shape = model.config.shape(of: product)
        let p = packed?.layers[l]
        let panels: PanelWeights? = switch product {
        case .qkv: p?.qkv
        case .output: p?.o
        case .gateUp: p?.gateUp
        case .down: p?.down
        }
        model.linear(out, inp, model.w(shape.weight, l), shape.bias.flatMap { model.wOpt($0, l) }, N: rows, C: shape.inputs, OC: shape.outputs, panels)
    }

    func attend(_ qkv: UnsafeMutablePointer<Float>, _ att: UnsafeMutablePointer<Float>, layer: Int, rows: Int) { attendStep(qkv, att) }

    func swiglu(_ hidden: UnsafeMutablePointer<Float>, _ gateUp: UnsafeMutablePointer<Float>, rows: Int) {
        swigluForward(hidden, gateUp, rows: rows, H: model.config.intermediateSize)
    }

    func addResidual(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int) {
        addInPlace(x, y, count: rows * model.config.hiddenSize)
    }
}

/// Activations of a forward call, allocated outside the layer loop.
final class Workspace: @unchecked Sendable {
    struct Size {
        var N: Int, scratch: Int
        func covers(_ o: Size) -> Bool { N >= o.N && scratch >= o.scratch }
    }
    let size: Size
    let x, xn, qkv, att, gateUp, hidden, scores: UnsafeMutablePointer<Float>

    init(config c: ModelConfig, size: Size) {
        self.size = size
        let N = size.N, qw = c.heads * c.headDim, kv = c.kvHeads * c.headDim
        x = .allocate(capacity: N * c.hiddenSize)
        xn = .allocate(capacity: N * c.hiddenSize)
        qkv = .allocate(capacity: N * (qw + 2 * kv))
        att = .allocate(capacity: N * qw)
        gateUp = .allocate(capacity: N * 2 * c.intermediateSize)
        hidden = .allocate(capacity: N * c.intermediateSize)
        scores = .allocate(capacity: max(size.scratch, 1))
    }

    deinit { for p in [x, xn, qkv, att, gateUp, hidden, scores] { p.deallocate() } }
}
