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
    /// The backward pass's working buffers: they travel with the tape, so a recycled tape
    /// brings them to the next step instead of the backward pass allocating them again.
    let backwardScratch = ScratchBuffers()
    /// LoRA adapters in the pass (nil: the base model alone), and the seed of their dropout
    /// masks (nil: no dropout, as in validation).
    let adapter: LoRAAdapter?
    private(set) var dropoutSeed: UInt64?
    /// Gradient checkpointing: only each layer's input is kept; the backward pass recomputes the
    /// rest of a layer (one more forward pass) into buffers all layers share.
    let recompute: Bool
    /// The linear layers' arithmetic (Kernels/MatmulBF16 in bf16).
    var precision = Precision.fp32
    /// What the buffers can hold: rows, attention probabilities, output rows.
    let capacity: (rows: Int, probs: Int, outputs: Int)
    struct Layer {
        var xIn, rstd1, xn1, qkv, probs, att, xMid, rstd2, xn2, gateUp, hidden: UnsafeMutablePointer<Float>
    }
    var layers: [Layer] = []
    var xOut: UnsafeMutablePointer<Float>
    var rstdF: UnsafeMutablePointer<Float>
    var xnF: UnsafeMutablePointer<Float>
    /// LoRA scratch: the dropped-out input and its gradient (N, widest input), u and du (N, r).
    var loraIn, loraGrad, loraU, loraDU: UnsafeMutablePointer<Float>
    private var allocations: [UnsafeMutablePointer<Float>] = []

    static func probLayout(_ cfg: ModelConfig, _ segments: [AttentionSegment]) -> (offsets: [Int], total: Int) {
        var offsets: [Int] = []
        var total = 0
        for s in segments { offsets.append(total); total += cfg.heads * s.rows * (s.firstPosition + s.rows) }
        return (offsets, total)
    }

    /// Whether this tape's buffers can hold a batch of this size for this kind of pass.
    func fits(rows: Int, probs: Int, outputs: Int, adapter: LoRAAdapter?, recompute: Bool) -> Bool {
        rows <= capacity.rows && probs <= capacity.probs && outputs <= capacity.outputs && adapter === self.adapter && recompute == self.recompute
    }

    /// Points the tape at a new batch (its buffers must fit it).
    func reset(segments: [AttentionSegment], probOffset: [Int], positions: [Int], tokens: [Int32], outputRows: [Int], dropoutSeed: UInt64?) {
        N = tokens.count
        self.segments = segments
        self.probOffset = probOffset
        self.positions = positions
        self.tokens = tokens
        self.outputRows = outputRows
        self.dropoutSeed = dropoutSeed
    }

    init(cfg: ModelConfig, segments: [AttentionSegment], positions: [Int], tokens: [Int32], outputRows: [Int],
         adapter: LoRAAdapter?, dropoutSeed: UInt64?, recompute: Bool) {
        N = tokens.count
        self.segments = segments
        self.positions = positions
        self.tokens = tokens
        self.outputRows = outputRows
        self.adapter = adapter
        self.dropoutSeed = dropoutSeed
        self.recompute = recompute
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
        func layerBuffers() -> Layer {
            Layer(xIn: alloc(n * C), rstd1: alloc(n), xn1: alloc(n * C), qkv: alloc(n * QKV), probs: alloc(total),
                  att: alloc(n * qw), xMid: alloc(n * C), rstd2: alloc(n), xn2: alloc(n * C),
                  gateUp: alloc(n * 2 * H), hidden: alloc(n * H))
        }
        if recompute {
            let shared = layerBuffers()
            for _ in 0..<cfg.layers {
                var layer = shared
                layer.xIn = alloc(n * C)
                layers.append(layer)
            }
        } else {
            for _ in 0..<cfg.layers { layers.append(layerBuffers()) }
        }
        xOut = alloc(n * C)
        rstdF = alloc(outputRows.count)
        xnF = alloc(outputRows.count * C)
        let widest = adapter == nil ? 0 : max(C, H, qw)
        let rank = adapter?.settings.rank ?? 0
        loraIn = alloc(n * widest)
        loraGrad = alloc(n * widest)
        loraU = alloc(n * rank)
        loraDU = alloc(n * rank)
        allocations = allocs
    }

    deinit { for p in allocations { p.deallocate() } }
}

extension DecoderModel {
    /// Runs `sequences` (each from position 0) and returns the logits (R, V) of the rows
    /// `outputs[b]` (positions within sequence b, in order), and the tape for `backward`.
    ///
    /// With `sharePrefix`, the batch's common first tokens are computed once (exact; see above).
    /// With an `adapter`, its LoRA updates join their layers, with dropout masks drawn from
    /// `dropoutSeed` (nil: no dropout). `recompute` keeps only each layer's input (gradient checkpointing).
    /// `precision` bf16 runs the linear layers' products, here and in `backward`, in bf16 mixed precision.
    public func trainForward(_ sequences: [[Int32]], outputs: [[Int]], sharePrefix: Bool = true, adapter: LoRAAdapter? = nil,
                             dropoutSeed: UInt64? = nil, recompute: Bool = false,
                             precision: Precision = .fp32) throws -> (logits: [Float], tape: TrainingTape) {
        let cfg = config
        let (C, V) = (cfg.hiddenSize, cfg.vocabSize)
        precondition(outputs.count == sequences.count, "one list of output positions per sequence")
        precondition(adapter.map { $0.config == cfg } ?? true, "the adapters were made for another model")
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
        let seed = (adapter?.settings.dropout ?? 0) > 0 ? dropoutSeed : nil
        // The last batch's tape is reused when this batch fits: fresh memory each step costs
        // page clearing (9% of a training step in perf).
        let (offsets, probTotal) = TrainingTape.probLayout(cfg, segments)
        let tape: TrainingTape
        if let old = tapes.withLock({ t -> TrainingTape? in defer { t = nil }; return t }),
            old.fits(rows: tokens.count, probs: probTotal, outputs: outRows.count, adapter: adapter, recompute: recompute)
        {
            old.reset(segments: segments, probOffset: offsets, positions: positions, tokens: tokens, outputRows: outRows, dropoutSeed: seed)
            tape = old
        } else {
            tape = TrainingTape(cfg: cfg, segments: segments, positions: positions, tokens: tokens, outputRows: outRows,
                                adapter: adapter, dropoutSeed: seed, recompute: recompute)
        }
        tape.precision = precision
        let N = tokens.count
        // The residual stream lives in the tape: each layer reads its saved input xIn and writes
        // its output into the next layer's xIn (the last one into xOut), with no copies.
        let E = g(.embedding)
        let x0 = tape.layers.first?.xIn ?? tape.xOut
        for r in 0..<N { (x0 + r * C).update(from: E + Int(tokens[r]) * C, count: C) }
        for l in 0..<cfg.layers { layerForward(l, tape, throughOutput: true) }
        let x = tape.xOut
        let R = outRows.count
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: max(R * C, 1))
        defer { gathered.deallocate() }
        for (i, r) in outRows.enumerated() { (gathered + i * C).update(from: x + r * C, count: C) }
        rmsNormForward(tape.xnF, rstd: tape.rstdF, gathered, g(.finalNorm), N: R, C: C, eps: cfg.rmsNormEps)
        var logits = logitsStore.withLock { stored -> [Float] in defer { stored = [] }; return stored }
        if logits.capacity >= R * V {
            // The recycled array's pages are already mapped; the product overwrites every value.
            logits.removeAll(keepingCapacity: true)
            logits.append(contentsOf: repeatElement(0, count: R * V))
        } else {
            logits = [Float](repeating: 0, count: R * V)
        }
        logits.withUnsafeMutableBufferPointer { linearForward(tape, $0.baseAddress!, tape.xnF, outputHead, nil, N: R, C: C, OC: V) }
        return (logits, tape)
    }

    /// Layer l of the training forward pass, from its input xIn; the output goes to the next
    /// layer's input unless `throughOutput` is false (a recomputation for the backward pass,
    /// which needs everything up to the MLP's hidden activations, not the layer's output).
    func layerForward(_ l: Int, _ tape: TrainingTape, throughOutput: Bool) {
        let cfg = config
        let (C, H, NH, KVH, D) = (cfg.hiddenSize, cfg.intermediateSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        let qw = NH * D, kvw = KVH * D, QKV = qw + 2 * kvw
        let N = tape.N
        let a = tape.layers[l]
        rmsNormForward(a.xn1, rstd: a.rstd1, a.xIn, w(.attnNorm, l), N: N, C: C, eps: cfg.rmsNormEps)
        linearForward(tape, a.qkv, a.xn1, w(.wq, l), wOpt(.bq, l), N: N, C: C, OC: QKV)
        loraForward(.qProj, l, tape, input: a.xn1, out: a.qkv, ldOut: QKV)
        loraForward(.kProj, l, tape, input: a.xn1, out: a.qkv + qw, ldOut: QKV)
        loraForward(.vProj, l, tape, input: a.xn1, out: a.qkv + qw + kvw, ldOut: QKV)
        for r in 0..<N {
            rope.apply(a.qkv + r * QKV, heads: NH, pos: tape.positions[r])
            rope.apply(a.qkv + r * QKV + qw, heads: KVH, pos: tape.positions[r])
        }
        attentionTrainForward(a.att, probs: a.probs, qkv: a.qkv, QKV: QKV, segments: tape.segments, probOffset: tape.probOffset,
                              shape: AttentionShape(NH: NH, KVH: KVH, D: D))
        linearForward(tape, a.xMid, a.att, w(.wo, l), nil, N: N, C: qw, OC: C)
        loraForward(.oProj, l, tape, input: a.att, out: a.xMid, ldOut: C)
        addInPlace(a.xMid, a.xIn, count: N * C)  // xMid = x + o(att)
        rmsNormForward(a.xn2, rstd: a.rstd2, a.xMid, w(.mlpNorm, l), N: N, C: C, eps: cfg.rmsNormEps)
        linearForward(tape, a.gateUp, a.xn2, w(.wGate, l), nil, N: N, C: C, OC: 2 * H)
        loraForward(.gateProj, l, tape, input: a.xn2, out: a.gateUp, ldOut: 2 * H)
        loraForward(.upProj, l, tape, input: a.xn2, out: a.gateUp + H, ldOut: 2 * H)
        swigluForward(a.hidden, a.gateUp, rows: N, H: H)
        guard throughOutput else { return }
        let next = l + 1 < cfg.layers ? tape.layers[l + 1].xIn : tape.xOut
        linearForward(tape, next, a.hidden, w(.wDown, l), nil, N: N, C: H, OC: C)
        loraForward(.downProj, l, tape, input: a.hidden, out: next, ldOut: C)
        addInPlace(next, a.xMid, count: N * C)  // next = xMid + mlp
    }

    /// The dropout seed of one adapted layer in this pass, or nil without dropout.
    private func dropoutSeed(_ tape: TrainingTape, _ l: Int, _ t: LoRATarget) -> UInt64? {
        tape.dropoutSeed.map { LoRAAdapter.dropoutSeed(pass: $0, layer: l, target: t) }
    }

    /// out += (α/r) · dropout(input)·Aᵀ·Bᵀ for the adapter of (l, t), if the pass has one.
    private func loraForward(_ t: LoRATarget, _ l: Int, _ tape: TrainingTape, input: UnsafePointer<Float>,
                             out: UnsafeMutablePointer<Float>, ldOut: Int) {
        guard let adapter = tape.adapter, let s = adapter.slots[l][t] else { return }
        let (inputs, outputs) = t.shape(config)
        var x = input
        if let seed = dropoutSeed(tape, l, t) {
            dropoutForward(tape.loraIn, input, rows: tape.N, C: inputs, p: Float(adapter.settings.dropout), seed: seed)
            x = UnsafePointer(tape.loraIn)
        }
        lowRankForward(out, ldOut: ldOut, u: tape.loraU, x, a: adapter.parameters.view(s.a), b: adapter.parameters.view(s.b),
                       scale: adapter.settings.scale, N: tape.N, C: inputs, OC: outputs, rank: adapter.settings.rank)
    }

    /// The adapter's gradients for (l, t) into `grads`, and its share of d input into `dinp`.
    private func loraBackward(_ t: LoRATarget, _ l: Int, _ tape: TrainingTape, input: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                              ldDout: Int, dinp: UnsafeMutablePointer<Float>, grads: ParameterBuffer?) {
        guard let adapter = tape.adapter, let s = adapter.slots[l][t], let grads else { return }
        let (inputs, outputs) = t.shape(config)
        let N = tape.N, p = Float(adapter.settings.dropout)
        let seed = dropoutSeed(tape, l, t)
        var x = input, dx = dinp
        if let seed {
            // The same mask as in the forward pass, regenerated from its seed.
            dropoutForward(tape.loraIn, input, rows: N, C: inputs, p: p, seed: seed)
            x = UnsafePointer(tape.loraIn)
            zeroFill(tape.loraGrad, count: N * inputs)
            dx = tape.loraGrad
        }
        lowRankBackward(dinp: dx, da: grads.view(s.a), db: grads.view(s.b), u: tape.loraU, du: tape.loraDU, dout: dout, ldDout: ldDout,
                        inp: x, a: adapter.parameters.view(s.a), b: adapter.parameters.view(s.b), scale: adapter.settings.scale,
                        N: N, C: inputs, OC: outputs, rank: adapter.settings.rank)
        if let seed { dropoutBackward(dinp, tape.loraGrad, rows: N, C: inputs, p: p, seed: seed) }
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
    /// Hands a training pass's logits back for the next pass to fill (the caller keeps no use of them).
    public func recycleLogits(_ logits: [Float]) {
        logitsStore.withLock { stored in if logits.capacity > stored.capacity { stored = logits } }
    }

    public func recycle(_ tape: TrainingTape) {
        tapes.withLock { current in
            if current == nil || current!.capacity.rows < tape.capacity.rows || current!.adapter !== tape.adapter
                || current!.recompute != tape.recompute
            {
                current = tape
            }
        }
    }

    /// d loss / d parameters, given d loss / d logits (R, V), added into `grads` (the model's
    /// layout; nil keeps the base frozen: no weight gradient is computed at all) and, for a pass
    /// with adapters, into `adapterGrads` (the adapter's layout).
    public func backward(_ tape: TrainingTape, dlogits: UnsafePointer<Float>, grads: ParameterBuffer?, adapterGrads: ParameterBuffer? = nil) {
        let cfg = config
        let (C, H, V, NH, KVH, D) = (cfg.hiddenSize, cfg.intermediateSize, cfg.vocabSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        let N = tape.N, R = tape.outputRows.count
        let qw = NH * D, kvw = KVH * D, QKV = qw + 2 * kvw
        let shape = AttentionShape(NH: NH, KVH: KVH, D: D)
        precondition(grads != nil || (tape.adapter != nil && adapterGrads != nil), "backward needs something to train")
        func gl(_ t: LayerTensor, _ l: Int) -> UnsafeMutablePointer<Float>? { grads.map { $0.view(layout.layers[l][t]!) } }
        func gg(_ t: GlobalTensor) -> UnsafeMutablePointer<Float>? { grads.map { $0.view(layout.globals[t]!) } }
        let buffers = tape.backwardScratch
        let dx = buffers.zeroed(0, N * C), dxnF = buffers.zeroed(1, R * C), dxF = buffers.zeroed(2, R * C), gathered = buffers.zeroed(3, R * C)
        let dh = buffers.zeroed(4, N * H), dgateUp = buffers.zeroed(5, N * 2 * H), dxn = buffers.zeroed(6, N * C)
        let datt = buffers.zeroed(7, N * qw), dqkv = buffers.zeroed(8, N * QKV)
        let block = tape.segments.map { $0.rows * ($0.firstPosition + $0.rows) }.max() ?? 0
        let scratch = buffers.zeroed(9, Parallel.workers * block)
        func lora(_ t: LoRATarget, _ l: Int, input: UnsafePointer<Float>, dout: UnsafePointer<Float>, ld: Int, dinp: UnsafeMutablePointer<Float>) {
            loraBackward(t, l, tape, input: input, dout: dout, ldDout: ld, dinp: dinp, grads: adapterGrads)
        }

        // Head and final norm, at the output rows only.
        let dHead = cfg.tieWordEmbeddings ? gg(.embedding) : gg(.lmHead)
        linearBackward(tape, dinp: dxnF, dweight: dHead, dbias: nil, dout: dlogits, inp: tape.xnF, weight: outputHead, N: R, C: C, OC: V)
        for (i, r) in tape.outputRows.enumerated() { (gathered + i * C).update(from: tape.xOut + r * C, count: C) }
        rmsNormBackward(dinp: dxF, dweight: gg(.finalNorm), dout: dxnF, inp: gathered, weight: g(.finalNorm), rstd: tape.rstdF, N: R, C: C)
        for (i, r) in tape.outputRows.enumerated() { addInPlace(dx + r * C, dxF + i * C, count: C) }

        for l in stride(from: cfg.layers - 1, through: 0, by: -1) {
            if tape.recompute { layerForward(l, tape, throughOutput: false) }
            let a = tape.layers[l]
            // x = xMid + down(swiglu(gateUp(norm(xMid))))
            dh.initialize(repeating: 0, count: N * H)
            linearBackward(tape, dinp: dh, dweight: gl(.wDown, l), dbias: nil, dout: dx, inp: a.hidden, weight: w(.wDown, l), N: N, C: H, OC: C)
            lora(.downProj, l, input: a.hidden, dout: dx, ld: C, dinp: dh)
            swigluBackward(dgateUp: dgateUp, dout: dh, gateUp: a.gateUp, rows: N, H: H)
            dxn.initialize(repeating: 0, count: N * C)
            linearBackward(tape, dinp: dxn, dweight: gl(.wGate, l), dbias: nil, dout: dgateUp, inp: a.xn2, weight: w(.wGate, l), N: N, C: C, OC: 2 * H)
            lora(.gateProj, l, input: a.xn2, dout: dgateUp, ld: 2 * H, dinp: dxn)
            lora(.upProj, l, input: a.xn2, dout: dgateUp + H, ld: 2 * H, dinp: dxn)
            rmsNormBackward(dinp: dx, dweight: gl(.mlpNorm, l), dout: dxn, inp: a.xMid, weight: w(.mlpNorm, l), rstd: a.rstd2, N: N, C: C)
            // xMid = xIn + o(attention(rope(qkv(norm(xIn)))))
            datt.initialize(repeating: 0, count: N * qw)
            linearBackward(tape, dinp: datt, dweight: gl(.wo, l), dbias: nil, dout: dx, inp: a.att, weight: w(.wo, l), N: N, C: qw, OC: C)
            lora(.oProj, l, input: a.att, dout: dx, ld: C, dinp: datt)
            dqkv.initialize(repeating: 0, count: N * QKV)
            attentionTrainBackward(dqkv: dqkv, dout: datt, probs: a.probs, qkv: a.qkv, QKV: QKV, segments: tape.segments,
                                   probOffset: tape.probOffset, shape: shape, scratch: scratch)
            for r in 0..<N {
                rope.applyInverse(dqkv + r * QKV, heads: NH, pos: tape.positions[r])
                rope.applyInverse(dqkv + r * QKV + qw, heads: KVH, pos: tape.positions[r])
            }
            dxn.initialize(repeating: 0, count: N * C)
            let dBias = layout.layers[l][.bq].flatMap { slot in grads.map { $0.view(slot) } }
            linearBackward(tape, dinp: dxn, dweight: gl(.wq, l), dbias: dBias, dout: dqkv, inp: a.xn1, weight: w(.wq, l), N: N, C: C, OC: QKV)
            lora(.qProj, l, input: a.xn1, dout: dqkv, ld: QKV, dinp: dxn)
            lora(.kProj, l, input: a.xn1, dout: dqkv + qw, ld: QKV, dinp: dxn)
            lora(.vProj, l, input: a.xn1, dout: dqkv + qw + kvw, ld: QKV, dinp: dxn)
            rmsNormBackward(dinp: dx, dweight: gl(.attnNorm, l), dout: dxn, inp: a.xIn, weight: w(.attnNorm, l), rstd: a.rstd1, N: N, C: C)
        }
        // Embedding: each row's gradient goes to its token's row.
        guard let dE = gg(.embedding) else { return }
        for r in 0..<N { addInPlace(dE + Int(tape.tokens[r]) * C, dx + r * C, count: C) }
    }
}

/// Numbered Float32 buffers that grow to the largest size asked for and are kept until the
/// owner goes: a training step asks for the same buffers every time.
final class ScratchBuffers {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var capacities: [Int] = []

    /// Buffer `slot` holding at least `count` floats, its first `count` set to zero.
    func zeroed(_ slot: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        while buffers.count <= slot {
            buffers.append(.allocate(capacity: 1))
            capacities.append(1)
        }
        if capacities[slot] < count {
            buffers[slot].deallocate()
            buffers[slot] = .allocate(capacity: count)
            capacities[slot] = count
        }
        buffers[slot].initialize(repeating: 0, count: count)
        return buffers[slot]
    }

    deinit { for p in buffers { p.deallocate() } }
}

extension DecoderModel {
    /// out = inp · Wᵀ (+ bias), in the tape's precision.
    func linearForward(_ tape: TrainingTape, _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                       _ bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int) {
        switch tape.precision {
        case .fp32: matmulForward(out, inp, weight, bias, N: N, C: C, OC: OC)
        case .bf16: matmulForwardBF16(out, inp, weight, bias, N: N, C: C, OC: OC)
        }
    }

    /// The gradients of `linearForward`, added into dinp, dweight and dbias, in the tape's precision.
    func linearBackward(_ tape: TrainingTape, dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                        dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
                        weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int) {
        switch tape.precision {
        case .fp32: matmulBackward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight, N: N, C: C, OC: OC)
        case .bf16: matmulBackwardBF16(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight, N: N, C: C, OC: OC)
        }
    }
}
