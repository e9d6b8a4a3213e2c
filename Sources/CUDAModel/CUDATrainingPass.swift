// The training forward and backward passes on the GPU, the same math as CausalLM/TrainingPass.swift
// (full fine-tuning, or LoRA adapters on a frozen base; the CPU's shared prompt prefix and
// gradient checkpointing are not here yet):
//   forward   keeps each layer's input, norms' rstd, normed inputs, q|k|v after RoPE, attention
//             probabilities, attention output, mid stream, gate|up and hidden activations;
//   backward  the same steps in reverse, each adding into the gradients (the model's layout).
// Sequences are packed row after row, each from position 0. Products in fp32, or bf16 operands
// with fp32 sums (master weights, gradients and everything else in fp32), as the CPU's bf16.
// Legend: N = packed rows, R = output rows, C = hidden, H = MLP width, V = vocabulary.
import CausalLM
import CUDABackend
import Foundation

/// One batch's activations on the GPU, and its logits at the output rows (R, V).
public final class CUDATrainingTape: @unchecked Sendable {
    struct Layer {
        let xIn, rstd1, xn1, qkv, probs, att, xMid, rstd2, xn2, gateUp, hidden: DeviceBuffer<Float>
    }
    let N: Int
    let maxLength: Int
    let tokens, segStart, segEnd, positions, outputRows: DeviceBuffer<Int32>
    let outputRowList: [Int32]
    var layers: [Layer] = []
    let xOut, gathered, rstdF, xnF: DeviceBuffer<Float>
    public let logits: DeviceBuffer<Float>
    public var rows: Int { outputRowList.count }
    /// The packed rows' sequence layout, as the attention kernels take it.
    var packed: PackedRows { PackedRows(segStart: segStart.argument, segEnd: segEnd.argument, positions: positions.argument, rows: N, maxLength: maxLength) }
    /// LoRA scratch (nil without adapters): the dropped-out input and its gradient (N, widest
    /// input), u and du (N, r); and the seed of this pass's dropout masks (nil: no dropout).
    let loraIn, loraGrad, loraU, loraDU: DeviceBuffer<Float>?
    let dropoutSeed: UInt64?

    init(device d: CUDADevice, config c: ModelConfig, tokens: [Int32], segStart: [Int32], segEnd: [Int32], positions: [Int32], outputRows: [Int32],
         adapter: LoRASettings?, dropoutSeed: UInt64?) throws {
        N = tokens.count
        maxLength = Int(positions.max() ?? 0) + 1
        self.tokens = try d.upload(tokens)
        self.segStart = try d.upload(segStart)
        self.segEnd = try d.upload(segEnd)
        self.positions = try d.upload(positions)
        self.outputRows = try d.upload(outputRows)
        outputRowList = outputRows
        let (C, H) = (c.hiddenSize, c.intermediateSize)
        let qw = c.heads * c.headDim, QKV = qw + 2 * c.kvHeads * c.headDim
        for _ in 0..<c.layers {
            layers.append(Layer(
                xIn: try d.allocate(Float.self, count: N * C), rstd1: try d.allocate(Float.self, count: N),
                xn1: try d.allocate(Float.self, count: N * C), qkv: try d.allocate(Float.self, count: N * QKV),
                probs: try d.allocate(Float.self, count: N * c.heads * maxLength), att: try d.allocate(Float.self, count: N * qw),
                xMid: try d.allocate(Float.self, count: N * C), rstd2: try d.allocate(Float.self, count: N),
                xn2: try d.allocate(Float.self, count: N * C), gateUp: try d.allocate(Float.self, count: N * 2 * H),
                hidden: try d.allocate(Float.self, count: N * H)))
        }
        let R = outputRows.count
        xOut = try d.allocate(Float.self, count: N * C)
        gathered = try d.allocate(Float.self, count: max(R, 1) * C)
        rstdF = try d.allocate(Float.self, count: max(R, 1))
        xnF = try d.allocate(Float.self, count: max(R, 1) * C)
        logits = try d.allocate(Float.self, count: max(R, 1) * c.vocabSize)
        let (rows, widest) = (N, max(C, H, qw))
        loraIn = try adapter.map { _ in try d.allocate(Float.self, count: rows * widest) }
        loraGrad = try adapter.map { _ in try d.allocate(Float.self, count: rows * widest) }
        loraU = try adapter.map { try d.allocate(Float.self, count: rows * $0.rank) }
        loraDU = try adapter.map { try d.allocate(Float.self, count: rows * $0.rank) }
        self.dropoutSeed = (adapter?.dropout ?? 0) > 0 ? dropoutSeed : nil
    }
}

public final class CUDATrainingPass: @unchecked Sendable {
    public let decoder: CUDADecoder
    /// LoRA adapters (nil: full fine-tuning) and their parameters on the device, in the adapter's layout.
    public let adapter: LoRAAdapter?
    public let adapterParameters: DeviceBuffer<Float>?
    var device: CUDADevice { decoder.device }
    var config: ModelConfig { decoder.config }

    public init(_ decoder: CUDADecoder, adapter: LoRAAdapter? = nil) throws {
        self.decoder = decoder
        self.adapter = adapter
        adapterParameters = try adapter.map { try decoder.device.upload(Array(UnsafeBufferPointer(start: $0.parameters.data, count: $0.parameters.count))) }
    }

    func slot(_ t: LayerTensor, _ l: Int) -> TensorSlot { decoder.layout.layers[l][t]! }

    /// Runs `sequences` (each from position 0); logits of the rows `outputs[b]` (positions within
    /// sequence b, in order) are in the tape, (R, V).
    /// With adapters, `dropoutSeed` draws their dropout masks (nil: no dropout, as in validation).
    public func forward(_ sequences: [[Int32]], outputs: [[Int]], dropoutSeed: UInt64? = nil) throws -> CUDATrainingTape {
        let cfg = config
        let (C, H, V, NH, KVH, D) = (cfg.hiddenSize, cfg.intermediateSize, cfg.vocabSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        precondition(outputs.count == sequences.count, "one list of output positions per sequence")
        var tokens: [Int32] = [], segStart: [Int32] = [], segEnd: [Int32] = [], positions: [Int32] = [], outRows: [Int32] = []
        for (b, seq) in sequences.enumerated() {
            guard seq.count <= cfg.maxPositions else { throw ModelError.sequenceTooLong(index: b, length: seq.count, context: cfg.maxPositions) }
            for id in seq where id < 0 || Int(id) >= V { throw ModelError.tokenOutOfRange(id, vocabulary: V) }
            let first = Int32(tokens.count), end = first + Int32(seq.count)
            for (i, id) in seq.enumerated() {
                tokens.append(id)
                segStart.append(first)
                segEnd.append(end)
                positions.append(Int32(i))
            }
            precondition(Set(outputs[b]).count == outputs[b].count, "output positions of sequence \(b) repeat")
            for p in outputs[b] {
                precondition(p >= 0 && p < seq.count, "output position \(p) outside sequence \(b)")
                outRows.append(first + Int32(p))
            }
        }
        let tape = try CUDATrainingTape(device: device, config: cfg, tokens: tokens, segStart: segStart, segEnd: segEnd,
                                        positions: positions, outputRows: outRows, adapter: adapter?.settings, dropoutSeed: dropoutSeed)
        let N = tape.N, R = outRows.count
        guard N > 0 else { return tape }
        let d = device, p = decoder.parameters
        let qw = NH * D, QKV = qw + 2 * KVH * D
        let rounded = decoder.precision == .bf16 ? try d.allocate(UInt16.self, count: N * max(C, H, qw)) : nil
        let x0 = tape.layers.first?.xIn ?? tape.xOut
        try d.launch("embed_rows", grid: (N, 1), block: 128, [x0.argument, p.argument(at: decoder.layout.globals[.embedding]!.offset),
                                                            tape.tokens.argument, .int32(Int32(N)), .int32(Int32(C))])
        for l in 0..<cfg.layers {
            let a = tape.layers[l]
            try normForward(a.xn1, rstd: a.rstd1, a.xIn, slot(.attnNorm, l), rows: N)
            try decoder.linear(a.qkv, a.xn1, slot(.wq, l), bias: decoder.layout.layers[l][.bq], rows: N, C: C, OC: QKV, rounded: rounded)
            try loraForward(.qProj, l, tape, input: a.xn1, out: a.qkv, column: 0, ld: QKV)
            try loraForward(.kProj, l, tape, input: a.xn1, out: a.qkv, column: qw, ld: QKV)
            try loraForward(.vProj, l, tape, input: a.xn1, out: a.qkv, column: qw + KVH * D, ld: QKV)
            try decoder.rope(a.qkv, rows: N, positions: tape.positions)
            try d.attentionTrainForward(out: a.att.argument, probs: a.probs.argument, qkv: a.qkv.argument, QKV: QKV, rows: tape.packed,
                                        NH: NH, KVH: KVH, D: D)
            try decoder.linear(a.xMid, a.att, slot(.wo, l), rows: N, C: qw, OC: C, rounded: rounded)
            try loraForward(.oProj, l, tape, input: a.att, out: a.xMid, column: 0, ld: C)
            try add(a.xMid, a.xIn, count: N * C)
            try normForward(a.xn2, rstd: a.rstd2, a.xMid, slot(.mlpNorm, l), rows: N)
            try decoder.linear(a.gateUp, a.xn2, slot(.wGate, l), rows: N, C: C, OC: 2 * H, rounded: rounded)
            try loraForward(.gateProj, l, tape, input: a.xn2, out: a.gateUp, column: 0, ld: 2 * H)
            try loraForward(.upProj, l, tape, input: a.xn2, out: a.gateUp, column: H, ld: 2 * H)
            try d.launch("swiglu_forward", grid: (d.strideGrid(N * H), 1), block: 256, [a.hidden.argument, a.gateUp.argument, .int32(Int32(N)), .int32(Int32(H))])
            let next = l + 1 < cfg.layers ? tape.layers[l + 1].xIn : tape.xOut
            try decoder.linear(next, a.hidden, slot(.wDown, l), rows: N, C: H, OC: C, rounded: rounded)
            try loraForward(.downProj, l, tape, input: a.hidden, out: next, column: 0, ld: C)
            try add(next, a.xMid, count: N * C)
        }
        guard R > 0 else { return tape }
        try d.launch("embed_rows", grid: (R, 1), block: 128, [tape.gathered.argument, tape.xOut.argument, tape.outputRows.argument, .int32(Int32(R)), .int32(Int32(C))])
        try normForward(tape.xnF, rstd: tape.rstdF, tape.gathered, decoder.layout.globals[.finalNorm]!, rows: R)
        try decoder.linear(tape.logits, tape.xnF, decoder.outputHead, rows: R, C: C, OC: V, rounded: rounded)
        return tape
    }

    /// d loss / d parameters, given d loss / d logits (R, V) on the device, added into `grads`
    /// (the model's layout, on the device; nil keeps the base frozen: no weight gradient at all)
    /// and, with adapters, into `adapterGrads` (the adapter's layout).
    public func backward(_ tape: CUDATrainingTape, dlogits: DeviceBuffer<Float>, grads: DeviceBuffer<Float>?,
                         adapterGrads: DeviceBuffer<Float>? = nil) throws {
        let cfg = config
        let (C, H, V, NH, KVH, D) = (cfg.hiddenSize, cfg.intermediateSize, cfg.vocabSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        let N = tape.N, R = tape.rows
        guard N > 0, R > 0 else { return }
        let qw = NH * D, QKV = qw + 2 * KVH * D
        let d = device, layout = decoder.layout
        func zeros(_ n: Int) throws -> DeviceBuffer<Float> { let b = try d.allocate(Float.self, count: n); try b.fill(bits: 0); return b }
        // The buffers gradients are added into start at zero; the per-layer ones are zeroed in the
        // loop (or written whole: d gate|up, and d scores where read).
        let dx = try zeros(N * C), dxnF = try zeros(R * C), dxF = try zeros(R * C)
        let dh = try d.allocate(Float.self, count: N * H), dgateUp = try d.allocate(Float.self, count: N * 2 * H)
        let dxn = try d.allocate(Float.self, count: N * C), datt = try d.allocate(Float.self, count: N * qw)
        let dqkv = try d.allocate(Float.self, count: N * QKV), dscores = try d.allocate(Float.self, count: N * NH * tape.maxLength)
        // bf16: the products' inputs (at most N × max(C, H, qw)) and output gradients (N × the widest
        // layer output, or R × V at the head), rounded.
        let roundedIn = decoder.precision == .bf16 ? try d.allocate(UInt16.self, count: N * max(C, H, qw)) : nil
        let roundedOut = decoder.precision == .bf16 ? try d.allocate(UInt16.self, count: max(N * max(C, QKV, 2 * H), R * V)) : nil

        // Head and final norm, at the output rows only.
        let head = decoder.outputHead
        try linearBackward(dinp: dxnF, dweight: head, dbias: nil, dout: dlogits, inp: tape.xnF, weight: head, grads: grads,
                           N: R, C: C, OC: V, roundedIn: roundedIn, roundedOut: roundedOut)
        try normBackward(dinp: dxF, dout: dxnF, inp: tape.gathered, weight: layout.globals[.finalNorm]!, rstd: tape.rstdF, grads: grads, rows: R)
        try d.launch("scatter_add_rows", grid: (d.strideGrid(R * C), 1), block: 256,
                     [dx.argument, dxF.argument, tape.outputRows.argument, .int32(Int32(R)), .int32(Int32(C))])

        for l in stride(from: cfg.layers - 1, through: 0, by: -1) {
            let a = tape.layers[l]
            // x = xMid + down(swiglu(gateUp(norm(xMid))))
            try dh.fill(bits: 0)
            try linearBackward(dinp: dh, dweight: slot(.wDown, l), dbias: nil, dout: dx, inp: a.hidden, weight: slot(.wDown, l), grads: grads,
                               N: N, C: H, OC: C, roundedIn: roundedIn, roundedOut: roundedOut)
            try loraBackward(.downProj, l, tape, input: a.hidden, dout: dx, column: 0, ld: C, dinp: dh, grads: adapterGrads)
            try d.launch("swiglu_backward", grid: (d.strideGrid(N * H), 1), block: 256,
                         [dgateUp.argument, dh.argument, a.gateUp.argument, .int32(Int32(N)), .int32(Int32(H))])
            try dxn.fill(bits: 0)
            try linearBackward(dinp: dxn, dweight: slot(.wGate, l), dbias: nil, dout: dgateUp, inp: a.xn2, weight: slot(.wGate, l), grads: grads,
                               N: N, C: C, OC: 2 * H, roundedIn: roundedIn, roundedOut: roundedOut)
            try loraBackward(.gateProj, l, tape, input: a.xn2, dout: dgateUp, column: 0, ld: 2 * H, dinp: dxn, grads: adapterGrads)
            try loraBackward(.upProj, l, tape, input: a.xn2, dout: dgateUp, column: H, ld: 2 * H, dinp: dxn, grads: adapterGrads)
            try normBackward(dinp: dx, dout: dxn, inp: a.xMid, weight: slot(.mlpNorm, l), rstd: a.rstd2, grads: grads, rows: N)
            // xMid = xIn + o(attention(rope(qkv(norm(xIn)))))
            try datt.fill(bits: 0)
            try linearBackward(dinp: datt, dweight: slot(.wo, l), dbias: nil, dout: dx, inp: a.att, weight: slot(.wo, l), grads: grads,
                               N: N, C: qw, OC: C, roundedIn: roundedIn, roundedOut: roundedOut)
            try loraBackward(.oProj, l, tape, input: a.att, dout: dx, column: 0, ld: C, dinp: datt, grads: adapterGrads)
            try dqkv.fill(bits: 0)
            try d.attentionTrainBackward(dqkv: dqkv.argument, dscores: dscores.argument, dout: datt.argument, probs: a.probs.argument,
                                         qkv: a.qkv.argument, QKV: QKV, rows: tape.packed, NH: NH, KVH: KVH, D: D)
            try decoder.rope(dqkv, rows: N, positions: tape.positions, inverse: true)
            try dxn.fill(bits: 0)
            try linearBackward(dinp: dxn, dweight: slot(.wq, l), dbias: layout.layers[l][.bq], dout: dqkv, inp: a.xn1, weight: slot(.wq, l),
                               grads: grads, N: N, C: C, OC: QKV, roundedIn: roundedIn, roundedOut: roundedOut)
            try loraBackward(.qProj, l, tape, input: a.xn1, dout: dqkv, column: 0, ld: QKV, dinp: dxn, grads: adapterGrads)
            try loraBackward(.kProj, l, tape, input: a.xn1, dout: dqkv, column: qw, ld: QKV, dinp: dxn, grads: adapterGrads)
            try loraBackward(.vProj, l, tape, input: a.xn1, dout: dqkv, column: qw + KVH * D, ld: QKV, dinp: dxn, grads: adapterGrads)
            try normBackward(dinp: dx, dout: dxn, inp: a.xIn, weight: slot(.attnNorm, l), rstd: a.rstd1, grads: grads, rows: N)
        }
        // Embedding: each row's gradient goes to its token's row.
        guard let grads else { return }
        try d.launch("embedding_backward", grid: (d.strideGrid(N * C), 1), block: 256,
                     [grads.argument(at: layout.globals[.embedding]!.offset), dx.argument, tape.tokens.argument, .int32(Int32(N)), .int32(Int32(C))])
    }

    // MARK: steps

    func normForward(_ out: DeviceBuffer<Float>, rstd: DeviceBuffer<Float>, _ inp: DeviceBuffer<Float>, _ weight: TensorSlot, rows: Int) throws {
        try device.launch("rmsnorm_forward", grid: (rows, 1), block: 256,
                          [out.argument, rstd.argument, inp.argument, decoder.parameters.argument(at: weight.offset), .int32(Int32(rows)),
                           .int32(Int32(config.hiddenSize)), .float(config.rmsNormEps)])
    }

    /// dinp += …, and the weight's gradient into `grads` at the weight's slot.
    func normBackward(dinp: DeviceBuffer<Float>, dout: DeviceBuffer<Float>, inp: DeviceBuffer<Float>, weight: TensorSlot,
                      rstd: DeviceBuffer<Float>, grads: DeviceBuffer<Float>?, rows: Int) throws {
        let C = config.hiddenSize
        try device.launch("rmsnorm_backward_input", grid: (rows, 1), block: 256,
                          [dinp.argument, dout.argument, inp.argument, decoder.parameters.argument(at: weight.offset), rstd.argument,
                           .int32(Int32(rows)), .int32(Int32(C))])
        guard let grads else { return }
        try device.columnSumsAdd(grads.argument(at: weight.offset), dout.argument, times: inp.argument, rowScale: rstd.argument, N: rows, C: C)
    }

    /// For out = inp · Wᵀ (+ b): dinp += dout · W; grads[W] += doutᵀ · inp; grads[b] += Σ_n dout.
    /// In bf16, dout and inp are rounded first and W is the rounded copy.
    func linearBackward(dinp: DeviceBuffer<Float>, dweight: TensorSlot, dbias: TensorSlot?, dout: DeviceBuffer<Float>, inp: DeviceBuffer<Float>,
                        weight: TensorSlot, grads: DeviceBuffer<Float>?, N: Int, C: Int, OC: Int,
                        roundedIn: DeviceBuffer<UInt16>?, roundedOut: DeviceBuffer<UInt16>?) throws {
        let d = device
        let dW = grads.map { $0.address + UInt64(dweight.offset * 4) }
        if let bf16 = decoder.bf16Parameters, let roundedIn, let roundedOut {
            try d.launch("bf16_round", grid: (d.strideGrid(N * OC), 1), block: 256, [roundedOut.argument, dout.argument, .int64(Int64(N * OC))])
            try d.linearBackwardInput(dinp: dinp.address, dout: roundedOut.address, weight: bf16.address + UInt64(weight.offset * 2),
                                      N: N, C: C, OC: OC, precision: .bf16)
            if let dW {
                try d.launch("bf16_round", grid: (d.strideGrid(N * C), 1), block: 256, [roundedIn.argument, inp.argument, .int64(Int64(N * C))])
                try d.linearBackwardWeight(dweight: dW, dout: roundedOut.address, inp: roundedIn.address, N: N, C: C, OC: OC, precision: .bf16)
            }
        } else {
            try d.linearBackwardInput(dinp: dinp.address, dout: dout.address, weight: decoder.parameters.address + UInt64(weight.offset * 4),
                                      N: N, C: C, OC: OC, precision: .fp32)
            if let dW { try d.linearBackwardWeight(dweight: dW, dout: dout.address, inp: inp.address, N: N, C: C, OC: OC, precision: .fp32) }
        }
        if let dbias, let grads {
            try d.columnSumsAdd(grads.argument(at: dbias.offset), dout.argument, N: N, C: OC)
        }
    }

    // MARK: LoRA (Kernels/LowRank.swift's products; always fp32, as on the CPU)

    /// The dropout seed of adapter (l, t) in this pass, or nil without dropout.
    func dropoutSeed(_ tape: CUDATrainingTape, _ l: Int, _ t: LoRATarget) -> UInt64? {
        tape.dropoutSeed.map { LoRAAdapter.dropoutSeed(pass: $0, layer: l, target: t) }
    }

    /// out (rows of stride ld, from `column`) += (α/r) · dropout(input) · Aᵀ · Bᵀ for the adapter of (l, t), if any.
    func loraForward(_ t: LoRATarget, _ l: Int, _ tape: CUDATrainingTape, input: DeviceBuffer<Float>, out: DeviceBuffer<Float>,
                     column: Int, ld: Int) throws {
        guard let adapter, let params = adapterParameters, let s = adapter.slots[l][t], let u = tape.loraU else { return }
        let (inputs, outputs) = t.shape(config)
        let (N, r, d) = (tape.N, adapter.settings.rank, device)
        var x = input
        if let seed = dropoutSeed(tape, l, t), let dropped = tape.loraIn {
            try dropout(dropped, input, rows: N, C: inputs, seed: seed, accumulate: false)
            x = dropped
        }
        let a = params.address + UInt64(s.a.offset * 4), b = params.address + UInt64(s.b.offset * 4)
        // u (N, r) = x · Aᵀ;  out += scale · u · Bᵀ, i.e. outᵀ += scale · B · uᵀ.
        try d.linear(out: u.address, inp: x.address, weight: a, N: N, C: inputs, OC: r, precision: .fp32)
        try d.gemm(transA: true, transB: false, m: outputs, n: N, k: r, alpha: adapter.settings.scale, a: b, lda: r, b: u.address, ldb: r,
                   c: out.address + UInt64(column * 4), ldc: ld, beta: 1, precision: .fp32)
    }

    /// The adapter's gradients for (l, t) into `grads`, and its share of d input into `dinp`:
    /// u = x·Aᵀ and du = scale · dout · B recomputed; dA += duᵀ·x; dB += scale · doutᵀ·u; dx += du·A.
    func loraBackward(_ t: LoRATarget, _ l: Int, _ tape: CUDATrainingTape, input: DeviceBuffer<Float>, dout: DeviceBuffer<Float>,
                      column: Int, ld: Int, dinp: DeviceBuffer<Float>, grads: DeviceBuffer<Float>?) throws {
        guard let adapter, let params = adapterParameters, let s = adapter.slots[l][t], let grads,
              let u = tape.loraU, let du = tape.loraDU else { return }
        let (inputs, outputs) = t.shape(config)
        let (N, r, d, scale) = (tape.N, adapter.settings.rank, device, adapter.settings.scale)
        let seed = dropoutSeed(tape, l, t)
        var x = input, dx = dinp
        if let seed, let dropped = tape.loraIn, let dropGrad = tape.loraGrad {
            // The same mask as in the forward pass, regenerated from its seed.
            try dropout(dropped, input, rows: N, C: inputs, seed: seed, accumulate: false)
            try dropGrad.fill(bits: 0)
            x = dropped
            dx = dropGrad
        }
        let a = params.address + UInt64(s.a.offset * 4), b = params.address + UInt64(s.b.offset * 4)
        let da = grads.address + UInt64(s.a.offset * 4), db = grads.address + UInt64(s.b.offset * 4)
        let doutBlock = dout.address + UInt64(column * 4)
        try d.linear(out: u.address, inp: x.address, weight: a, N: N, C: inputs, OC: r, precision: .fp32)
        // duᵀ (r, N) = scale · Bᵀ · doutᵀ
        try d.gemm(transA: false, transB: false, m: r, n: N, k: outputs, alpha: scale, a: b, lda: r, b: doutBlock, ldb: ld,
                   c: du.address, ldc: r, beta: 0, precision: .fp32)
        try d.linearBackwardInput(dinp: dx.address, dout: du.address, weight: a, N: N, C: inputs, OC: r, precision: .fp32)
        // dBᵀ (r, OC) += scale · uᵀ · dout
        try d.gemm(transA: false, transB: true, m: r, n: outputs, k: N, alpha: scale, a: u.address, lda: r, b: doutBlock, ldb: ld,
                   c: db, ldc: r, beta: 1, precision: .fp32)
        try d.linearBackwardWeight(dweight: da, dout: du.address, inp: x.address, N: N, C: inputs, OC: r, precision: .fp32)
        if let seed, let dropGrad = tape.loraGrad { try dropout(dinp, dropGrad, rows: N, C: inputs, seed: seed, accumulate: true) }
    }

    /// Inverted dropout with the CPU's mask (Kernels' dropoutForward/dropoutBackward).
    func dropout(_ out: DeviceBuffer<Float>, _ x: DeviceBuffer<Float>, rows N: Int, C: Int, seed: UInt64, accumulate: Bool) throws {
        let p = Float(adapter!.settings.dropout)  // as the CPU pass takes it
        let threshold = UInt64((Double(p) * 16_777_216).rounded())
        try device.launch("dropout_rows", grid: (device.strideGrid(N * C), 1), block: 256,
                          [out.argument, x.argument, .int32(Int32(N)), .int32(Int32(C)), .int64(Int64(threshold)), .float(1 / (1 - p)),
                           .int64(Int64(bitPattern: seed)), .int32(accumulate ? 1 : 0)])
    }

    func add(_ x: DeviceBuffer<Float>, _ y: DeviceBuffer<Float>, count: Int) throws {
        try device.launch("add_in_place", grid: (device.strideGrid(count), 1), block: 256, [x.argument, y.argument, .int64(Int64(count))])
    }
}
