// The training forward pass, which keeps what the backward pass needs, and the backward pass
// through the whole decoder, llm.c-style: the same kernel calls in reverse, each adding into
// the gradient buffer (same layout as the parameters). The loss sits between the two, outside
// this module: forward gives logits at the requested rows, backward takes d loss / d logits.
// Sequences are packed and start at position 0 (no cache); only requested rows go through the head.
// The tokens all sequences of a batch begin with (the prompt's instruction header) are packed once:
// by causality their activations are the same in every sequence, and their gradient arrives
// summed over the batch through attention — exactly what running each sequence whole would give.
import Foundation
import Kernels

/// The activations of one training batch.
public final class TrainingTape: @unchecked Sendable {
    private(set) var N: Int
    private(set) var segments: [AttentionSegment]
    private(set) var probOffset: [Int]
    private(set) var positions: [Int]
    private(set) var tokens: [Int32]
    /// Packed row of each requested output, in order.
    public private(set) var outputRows: [Int]
    /// What the buffers can hold: rows, attention probabilities, output rows.
    let capacity: (rows: Int, probs: Int, outputs: Int)
    struct Layer {
        var xIn, rstd1, xn1, qkv, probs, att, xMid, rstd2, xn2, gateUp, hidden: UnsafeMutablePointer<Float>
    }
    var layers: [Layer] = []
    var xOut: UnsafeMutablePointer<Float>
    var rstdF: UnsafeMutablePointer<Float>
    var xnF: UnsafeMutablePointer<Float>
    private var allocations: [UnsafeMutablePointer<Float>] = []

    static func probLayout(_ cfg: ModelConfig, _ segments: [AttentionSegment]) -> (offsets: [Int], total: Int) {
        var offsets: [Int] = []
        var total = 0
        for s in segments { offsets.append(total); total += cfg.heads * s.rows * (s.firstPosition + s.rows) }
        return (offsets, total)
    }

    /// Whether this tape's buffers can hold a batch of this size.
    func fits(rows: Int, probs: Int, outputs: Int) -> Bool {
        rows <= capacity.rows && probs <= capacity.probs && outputs <= capacity.outputs
    }

    /// Points the tape at a new batch (its buffers must fit it).
    func reset(segments: [AttentionSegment], probOffset: [Int], positions: [Int], tokens: [Int32], outputRows: [Int]) {
        N = tokens.count
        self.segments = segments
        self.probOffset = probOffset
        self.positions = positions
        self.tokens = tokens
        self.outputRows = outputRows
    }

    init(cfg: ModelConfig, segments: [AttentionSegment], positions: [Int], tokens: [Int32], outputRows: [Int]) {
        N = tokens.count
        self.segments = segments
        self.positions = positions
        self.tokens = tokens
        self.outputRows = outputRows
        let (offsets, total) = Self.probLayout(cfg, segments)
        probOffset = offsets
        capacity = (tokens.count, total, outputRows.count)
        let (C, H) = (cfg.hiddenSize, cfg.intermediateSize)
        let qw = cfg.heads * cfg.headDim, QKV = qw + 2 * cfg.kvHeads * cfg.headDim
        var allocs: [UnsafeMutablePointer<Float>] = []
        func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            allocs.append(p)
            return p
        }
        let n = tokens.count
        for _ in 0..<cfg.layers {
            layers.append(Layer(xIn: alloc(n * C), rstd1: alloc(n), xn1: alloc(n * C), qkv: alloc(n * QKV), probs: alloc(total),
                                att: alloc(n * qw), xMid: alloc(n * C), rstd2: alloc(n), xn2: alloc(n * C),
                                gateUp: alloc(n * 2 * H), hidden: alloc(n * H)))
        }
        xOut = alloc(n * C)
        rstdF = alloc(outputRows.count)
        xnF = alloc(outputRows.count * C)
        allocations = allocs
    }

    deinit { for p in allocations { p.deallocate() } }
}

extension DecoderModel {
    /// Runs `sequences` (each from position 0) and returns the logits (R, V) of the rows
    /// `outputs[b]` (positions within sequence b, in order), and the tape for `backward`.
    ///
    /// With `sharePrefix`, the batch's common first tokens are computed once (exact; see above).
    public func trainForward(_ sequences: [[Int32]], outputs: [[Int]], sharePrefix: Bool = true) throws -> (logits: [Float], tape: TrainingTape) {
        let cfg = config
        let (C, H, V, NH, KVH, D) = (cfg.hiddenSize, cfg.intermediateSize, cfg.vocabSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        precondition(outputs.count == sequences.count, "one list of output positions per sequence")
        for (b, seq) in sequences.enumerated() {
            guard seq.count <= cfg.maxPositions else {
                throw ModelError.sequenceTooLong(index: b, length: seq.count, context: cfg.maxPositions)
            }
            for id in seq where id < 0 || Int(id) >= V { throw ModelError.tokenOutOfRange(id, vocabulary: V) }
            for p in outputs[b] { precondition(p >= 0 && p < seq.count, "output position \(p) outside sequence \(b)") }
        }
        let P = sharePrefix ? sharedPrefixLength(sequences, outputs) : 0
        var segments: [AttentionSegment] = [], positions: [Int] = [], tokens: [Int32] = [], outRows: [Int] = []
        if P > 0 {
            segments.append(AttentionSegment(firstRow: 0, rows: P, slot: 0, firstPosition: 0))
            tokens += sequences[0][..<P]
            positions += 0..<P
        }
        for (b, seq) in sequences.enumerated() where seq.count > P {
            let first = tokens.count
            segments.append(AttentionSegment(firstRow: first, rows: seq.count - P, slot: b, firstPosition: P))
            tokens += seq[P...]
            positions += P..<seq.count
            for p in outputs[b] { outRows.append(first + p - P) }
        }
        // The last batch's tape is reused when this batch fits: fresh memory each step costs
        // page clearing (9% of a training step in perf).
        let (offsets, probTotal) = TrainingTape.probLayout(cfg, segments)
        let tape: TrainingTape
        if let old = tapes.withLock({ t -> TrainingTape? in defer { t = nil }; return t }),
            old.fits(rows: tokens.count, probs: probTotal, outputs: outRows.count)
        {
            old.reset(segments: segments, probOffset: offsets, positions: positions, tokens: tokens, outputRows: outRows)
            tape = old
        } else {
            tape = TrainingTape(cfg: cfg, segments: segments, positions: positions, tokens: tokens, outputRows: outRows)
        }
        let N = tokens.count
        let qw = NH * D, kvw = KVH * D, QKV = qw + 2 * kvw
        let shape = AttentionShape(NH: NH, KVH: KVH, D: D)
        // The residual stream lives in the tape: each layer reads its saved input xIn and writes
        // its output into the next layer's xIn (the last one into xOut), with no copies.
        let E = g(.embedding)
        let x0 = tape.layers.first?.xIn ?? tape.xOut
        for r in 0..<N { (x0 + r * C).update(from: E + Int(tokens[r]) * C, count: C) }
        for l in 0..<cfg.layers {
            let a = tape.layers[l]
            let x = a.xIn
            let next = l + 1 < cfg.layers ? tape.layers[l + 1].xIn : tape.xOut
            rmsNormForward(a.xn1, rstd: a.rstd1, x, w(.attnNorm, l), N: N, C: C, eps: cfg.rmsNormEps)
            matmulForward(a.qkv, a.xn1, w(.wq, l), wOpt(.bq, l), N: N, C: C, OC: QKV)
            for r in 0..<N {
                rope.apply(a.qkv + r * QKV, heads: NH, pos: positions[r])
                rope.apply(a.qkv + r * QKV + qw, heads: KVH, pos: positions[r])
            }
            attentionTrainForward(a.att, probs: a.probs, qkv: a.qkv, QKV: QKV, segments: segments, probOffset: tape.probOffset, shape: shape)
            matmulForward(a.xMid, a.att, w(.wo, l), nil, N: N, C: qw, OC: C)
            addInPlace(a.xMid, x, count: N * C)  // xMid = x + o(att)
            rmsNormForward(a.xn2, rstd: a.rstd2, a.xMid, w(.mlpNorm, l), N: N, C: C, eps: cfg.rmsNormEps)
            matmulForward(a.gateUp, a.xn2, w(.wGate, l), nil, N: N, C: C, OC: 2 * H)
            swigluForward(a.hidden, a.gateUp, rows: N, H: H)
            matmulForward(next, a.hidden, w(.wDown, l), nil, N: N, C: H, OC: C)
            addInPlace(next, a.xMid, count: N * C)  // next = xMid + mlp
        }
        let x = tape.xOut
        let R = outRows.count
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: max(R * C, 1))
        defer { gathered.deallocate() }
        for (i, r) in outRows.enumerated() { (gathered + i * C).update(from: x + r * C, count: C) }
        rmsNormForward(tape.xnF, rstd: tape.rstdF, gathered, g(.finalNorm), N: R, C: C, eps: cfg.rmsNormEps)
        var logits = [Float](repeating: 0, count: R * V)
        logits.withUnsafeMutableBufferPointer { matmulForward($0.baseAddress!, tape.xnF, outputHead, nil, N: R, C: C, OC: V) }
        return (logits, tape)
    }

    /// The length of the token prefix all sequences share, kept short of every output position
    /// (each scored row must belong to its own sequence) and of every sequence's end. 0 for one sequence.
    func sharedPrefixLength(_ sequences: [[Int32]], _ outputs: [[Int]]) -> Int {
        guard sequences.count > 1, let first = sequences.first else { return 0 }
        var P = first.count
        for seq in sequences.dropFirst() {
            var k = 0
            while k < min(P, seq.count), seq[k] == first[k] { k += 1 }
            P = k
        }
        for (seq, outs) in zip(sequences, outputs) {
            P = min(P, seq.count - 1)
            if let o = outs.min() { P = min(P, o) }
        }
        return max(P, 0)
    }

    /// Hands a tape back after `backward`, so the next `trainForward` can reuse its memory.
    public func recycle(_ tape: TrainingTape) {
        tapes.withLock { current in
            if current == nil || current!.capacity.rows < tape.capacity.rows { current = tape }
        }
    }

    /// Adds d loss / d parameters into `grads` (same layout as `parameters`), given d loss / d logits (R, V).
    public func backward(_ tape: TrainingTape, dlogits: UnsafePointer<Float>, grads: ParameterBuffer) {
        let cfg = config
        let (C, H, V, NH, KVH, D) = (cfg.hiddenSize, cfg.intermediateSize, cfg.vocabSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        let N = tape.N, R = tape.outputRows.count
        let qw = NH * D, kvw = KVH * D, QKV = qw + 2 * kvw
        let shape = AttentionShape(NH: NH, KVH: KVH, D: D)
        func gl(_ t: LayerTensor, _ l: Int) -> UnsafeMutablePointer<Float> { grads.view(layout.layers[l][t]!) }
        func gg(_ t: GlobalTensor) -> UnsafeMutablePointer<Float> { grads.view(layout.globals[t]!) }
        func zeros(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: n)
            return p
        }
        let dx = zeros(N * C), dxnF = zeros(R * C), dxF = zeros(R * C), gathered = zeros(R * C)
        let dh = zeros(N * H), dgateUp = zeros(N * 2 * H), dxn = zeros(N * C), datt = zeros(N * qw), dqkv = zeros(N * QKV)
        let block = tape.segments.map { $0.rows * ($0.firstPosition + $0.rows) }.max() ?? 0
        let scratch = zeros(Parallel.workers * block)
        defer { for p in [dx, dxnF, dxF, gathered, dh, dgateUp, dxn, datt, dqkv, scratch] { p.deallocate() } }

        // Head and final norm, at the output rows only.
        let dHead = cfg.tieWordEmbeddings ? gg(.embedding) : gg(.lmHead)
        matmulBackward(dinp: dxnF, dweight: dHead, dbias: nil, dout: dlogits, inp: tape.xnF, weight: outputHead, N: R, C: C, OC: V)
        for (i, r) in tape.outputRows.enumerated() { (gathered + i * C).update(from: tape.xOut + r * C, count: C) }
        rmsNormBackward(dinp: dxF, dweight: gg(.finalNorm), dout: dxnF, inp: gathered, weight: g(.finalNorm), rstd: tape.rstdF, N: R, C: C)
        for (i, r) in tape.outputRows.enumerated() { addInPlace(dx + r * C, dxF + i * C, count: C) }

        for l in stride(from: cfg.layers - 1, through: 0, by: -1) {
            let a = tape.layers[l]
            // x = xMid + down(swiglu(gateUp(norm(xMid))))
            dh.initialize(repeating: 0, count: N * H)
            matmulBackward(dinp: dh, dweight: gl(.wDown, l), dbias: nil, dout: dx, inp: a.hidden, weight: w(.wDown, l), N: N, C: H, OC: C)
            swigluBackward(dgateUp: dgateUp, dout: dh, gateUp: a.gateUp, rows: N, H: H)
            dxn.initialize(repeating: 0, count: N * C)
            matmulBackward(dinp: dxn, dweight: gl(.wGate, l), dbias: nil, dout: dgateUp, inp: a.xn2, weight: w(.wGate, l), N: N, C: C, OC: 2 * H)
            rmsNormBackward(dinp: dx, dweight: gl(.mlpNorm, l), dout: dxn, inp: a.xMid, weight: w(.mlpNorm, l), rstd: a.rstd2, N: N, C: C)
            // xMid = xIn + o(attention(rope(qkv(norm(xIn)))))
            datt.initialize(repeating: 0, count: N * qw)
            matmulBackward(dinp: datt, dweight: gl(.wo, l), dbias: nil, dout: dx, inp: a.att, weight: w(.wo, l), N: N, C: qw, OC: C)
            dqkv.initialize(repeating: 0, count: N * QKV)
            attentionTrainBackward(dqkv: dqkv, dout: datt, probs: a.probs, qkv: a.qkv, QKV: QKV, segments: tape.segments,
                                   probOffset: tape.probOffset, shape: shape, scratch: scratch)
            for r in 0..<N {
                rope.applyInverse(dqkv + r * QKV, heads: NH, pos: tape.positions[r])
                rope.applyInverse(dqkv + r * QKV + qw, heads: KVH, pos: tape.positions[r])
            }
            dxn.initialize(repeating: 0, count: N * C)
            let dBias = layout.layers[l][.bq].map { grads.view($0) }
            matmulBackward(dinp: dxn, dweight: gl(.wq, l), dbias: dBias, dout: dqkv, inp: a.xn1, weight: w(.wq, l), N: N, C: C, OC: QKV)
            rmsNormBackward(dinp: dx, dweight: gl(.attnNorm, l), dout: dxn, inp: a.xIn, weight: w(.attnNorm, l), rstd: a.rstd1, N: N, C: C)
        }
        // Embedding: each row's gradient goes to its token's row.
        let dE = gg(.embedding)
        for r in 0..<N { addInPlace(dE + Int(tape.tokens[r]) * C, dx + r * C, count: C) }
    }
}
