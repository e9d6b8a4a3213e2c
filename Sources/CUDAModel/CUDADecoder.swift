// The decoder's forward pass on a GPU, the same math as CausalLM/DecoderModel.swift:
//   x = E[tokens]
//   for each layer:  h = RMSNorm(x)·(Wq, Wk, Wv) (+ biases); RoPE(q, k); cache k, v;
//                    x += Attention(q, K, V)·Woᵀ
//                    x += (silu(RMSNorm(x)·Wgateᵀ) ⊙ RMSNorm(x)·Wupᵀ)·Wdownᵀ
//   logits = RMSNorm(x)·Eᵀ (or lm_head) — only at the rows whose logits are asked for.
// The parameters live on the GPU in the CPU model's flat layout (ParameterLayout), so a tensor
// is an offset into one buffer. Products go through cuBLAS: fp32 (no TF32), or bf16 operands
// (the weights rounded once, activations at each product's input) with fp32 accumulation, as
// the CPU's --precision bf16. Everything else is fp32, in the kernels of CUDABackend.
// Legend: N = packed rows, C = hidden, H = MLP width, V = vocabulary, NH/KVH/D = heads, head dim.
import CausalLM
import CUDABackend
import Foundation
import Kernels

public final class CUDADecoder: @unchecked Sendable {
    public let device: CUDADevice
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let precision: CUDADevice.ProductPrecision
    /// All parameters, fp32, in `layout`.
    let parameters: DeviceBuffer<Float>
    /// The same, rounded to bf16 (bf16 precision only).
    let bf16Parameters: DeviceBuffer<UInt16>?
    let cosines: DeviceBuffer<Float>
    let sines: DeviceBuffer<Float>

    /// Copies `model`'s parameters and RoPE tables to `device`.
    public init(_ model: DecoderModel, device: CUDADevice, precision: CUDADevice.ProductPrecision = .fp32) throws {
        self.device = device
        config = model.config
        layout = model.layout
        self.precision = precision
        parameters = try device.upload(Array(UnsafeBufferPointer(start: model.parameters.data, count: model.parameters.count)))
        bf16Parameters = precision == .bf16 ? try device.allocate(UInt16.self, count: parameters.count) : nil
        cosines = try device.upload(model.rope.cosines)
        sines = try device.upload(model.rope.sines)
        try refreshBFloat16Copy()
    }

    /// Rounds the fp32 parameters into the bf16 copy (bf16 only): after loading, and after every
    /// optimiser update in training, so the products always see the current master weights.
    public func refreshBFloat16Copy() throws {
        guard let bf16 = bf16Parameters else { return }
        try device.launch("bf16_round", grid: (device.strideGrid(parameters.count), 1), block: 256,
                          [bf16.argument, parameters.argument, .int64(Int64(parameters.count))])
    }

    func layerTensor(_ t: LayerTensor, _ l: Int) -> TensorSlot? { layout.layers[l][t] }
    var outputHead: TensorSlot { config.tieWordEmbeddings ? layout.globals[.embedding]! : layout.globals[.lmHead]! }

    /// Runs `sequences[i]` as the continuation of cache slot `slots[i]` (default: slot i) and
    /// returns logits (rows, V), row-major: the last row of each sequence, or every row. With
    /// `hiddenOnly`, the final-normed hidden states (rows, C) instead, as DecoderModel.forward.
    public func forward(_ sequences: [[Int32]], cache: CUDAKVCache, slots: [Int]? = nil,
                        logits which: DecoderModel.LogitRows = .last, hiddenOnly: Bool = false) throws -> [Float] {
        let cfg = config
        let (C, V, NH, KVH, D) = (cfg.hiddenSize, cfg.vocabSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        let slots = slots ?? Array(sequences.indices)
        let (segments, tokens, lastRows) = try cfg.continuationRows(sequences, slots: slots, lengths: cache.lengths, capacity: cache.capacity)
        let rowSlots = segments.flatMap { Array(repeating: Int32($0.slot), count: $0.rows) }
        let rowPositions = segments.flatMap { ($0.firstPosition..<($0.firstPosition + $0.rows)).map { Int32($0) } }
        let N = tokens.count
        guard N > 0 else { return [] }
        let d = device
        let dSlots = try d.upload(rowSlots), dPositions = try d.upload(rowPositions)
        let visible = Int(rowPositions.max()!) + 1  // the most keys any row attends to: its scores in shared memory
        let qw = NH * D, kvw = KVH * D, QKV = qw + 2 * kvw
        let (x, rounded) = try residualStream(tokens) { qkv, att, l in
            // RoPE on the query heads and the key heads right after them, keys and values into the
            // cache, then attention over each row's slot up to its position.
            try self.rope(qkv, rows: N, positions: dPositions)
            try d.launch("store_kv", grid: (d.strideGrid(N * kvw), 1), block: 256,
                         [cache.keys[l].argument, cache.values[l].argument, qkv.argument, .int32(Int32(QKV)), .int32(Int32(qw)),
                          .int32(Int32(kvw)), dSlots.argument, dPositions.argument, .int32(Int32(N)), .int32(Int32(cache.capacity))])
            try d.launch("attention_rows", grid: (N, NH), block: 128, sharedBytes: visible * 4,
                         [att.argument, qkv.argument, .int32(Int32(QKV)), cache.keys[l].argument, cache.values[l].argument,
                          dSlots.argument, dPositions.argument, .int32(Int32(N)), .int32(Int32(cache.capacity)), .int32(Int32(NH)),
                          .int32(Int32(KVH)), .int32(Int32(D))])
        }
        for (b, seq) in sequences.enumerated() where !seq.isEmpty { cache.lengths[slots[b]] += seq.count }

        // The output head runs only where logits are used: gather those rows (embed_rows is a gather).
        let outRows = which == .all ? (0..<Int32(N)).map { $0 } : lastRows.map { Int32($0) }
        let R = outRows.count
        let dOut = try d.upload(outRows), xn = try d.allocate(Float.self, count: R * C)
        try d.launch("embed_rows", grid: (R, 1), block: 128, [xn.argument, x.argument, dOut.argument, .int32(Int32(R)), .int32(Int32(C))])
        try rmsNorm(xn, xn, layout.globals[.finalNorm]!, rows: R)
        if hiddenOnly { return try xn.download() }
        let logits = try d.allocate(Float.self, count: R * V)
        try linear(logits, xn, outputHead, rows: R, C: C, OC: V, rounded: rounded)
        return try logits.download()
    }

    /// The residual stream after every layer for `tokens`, with `attend(qkv, att, layer)` as the
    /// attention step (where keys and values live is the caller's), and the bf16 rounding buffer
    /// the products used (nil in fp32), for the caller's head product.
    func residualStream(_ tokens: [Int32], attend: @escaping (DeviceBuffer<Float>, DeviceBuffer<Float>, Int) throws -> Void)
        throws -> (x: DeviceBuffer<Float>, rounded: DeviceBuffer<UInt16>?) {
        let cfg = config
        let (C, H, N) = (cfg.hiddenSize, cfg.intermediateSize, tokens.count)
        let qw = cfg.heads * cfg.headDim, QKV = qw + 2 * cfg.kvHeads * cfg.headDim
        let d = device
        let dTokens = try d.upload(tokens)
        let buffers = LayerBuffers(
            x: try d.allocate(Float.self, count: N * C), xn: try d.allocate(Float.self, count: N * C),
            qkv: try d.allocate(Float.self, count: N * QKV), att: try d.allocate(Float.self, count: N * qw),
            gateUp: try d.allocate(Float.self, count: N * 2 * H), hidden: try d.allocate(Float.self, count: N * H))
        let rounded = precision == .bf16 ? try d.allocate(UInt16.self, count: N * max(C, H, qw)) : nil
        try d.launch("embed_rows", grid: (N, 1), block: 128, [buffers.x.argument, parameters.argument(at: layout.globals[.embedding]!.offset),
                                                            dTokens.argument, .int32(Int32(N)), .int32(Int32(C))])
        let backend = CUDALayerBackend(decoder: self, rounded: rounded, attendStep: attend)
        for l in 0..<cfg.layers { try decoderLayer(l, rows: N, on: backend, buffers) }
        return (buffers.x, rounded)
    }

    /// Rotates the query heads and the key heads right after them, in place, at each row's
    /// position; `inverse` rotates back (the backward pass, on their gradients).
    func rope(_ qkv: DeviceBuffer<Float>, rows N: Int, positions: DeviceBuffer<Int32>, inverse: Bool = false) throws {
        let (NH, KVH, D) = (config.heads, config.kvHeads, config.headDim)
        let QKV = (NH + 2 * KVH) * D
        try device.launch("rope_rows", grid: (device.strideGrid(N * (NH + KVH) * D / 2), 1), block: 256,
                          [qkv.argument, .int32(Int32(QKV)), cosines.argument, sines.argument, positions.argument,
                           .int32(Int32(N)), .int32(Int32(NH + KVH)), .int32(Int32(D)), .float(inverse ? -1 : 1)])
    }

    // MARK: the steps

    func rmsNorm(_ out: DeviceBuffer<Float>, _ inp: DeviceBuffer<Float>, _ weight: TensorSlot, rows: Int) throws {
        try device.launch("rmsnorm_forward", grid: (rows, 1), block: 256,
                          [out.argument, .pointer(0), inp.argument, parameters.argument(at: weight.offset), .int32(Int32(rows)),
                           .int32(Int32(config.hiddenSize)), .float(config.rmsNormEps)])
    }

    /// out (rows, OC) = inp (rows, C) · W (OC, C)ᵀ (+ bias), W the tensor at `weight` (and the
    /// tensors after it, for fused products). In bf16 the input is rounded into `rounded` first.
    func linear(_ out: DeviceBuffer<Float>, _ inp: DeviceBuffer<Float>, _ weight: TensorSlot, bias: TensorSlot? = nil,
                rows: Int, C: Int, OC: Int, rounded: DeviceBuffer<UInt16>?) throws {
        if let bf16 = bf16Parameters, let rounded {
            try device.launch("bf16_round", grid: (device.strideGrid(rows * C), 1), block: 256,
                              [rounded.argument, inp.argument, .int64(Int64(rows * C))])
            try device.linear(out: out.address, inp: rounded.address, weight: bf16.address + UInt64(weight.offset * 2),
                              N: rows, C: C, OC: OC, precision: .bf16)
        } else {
            try device.linear(out: out.address, inp: inp.address, weight: parameters.address + UInt64(weight.offset * 4),
                              N: rows, C: C, OC: OC, precision: .fp32)
        }
        if let bias {
            try device.launch("add_bias_rows", grid: (device.strideGrid(rows * OC), 1), block: 256,
                              [out.argument, parameters.argument(at: bias.offset), .int32(Int32(rows)), .int32(Int32(OC))])
        }
    }
}

/// The GPU's steps of a decoder layer (CausalLM's LayerBackend); the attention step is the
/// caller's (a KV cache, or a prompt's cache plus beam continuations).
struct CUDALayerBackend: LayerBackend {
    let decoder: CUDADecoder
    let rounded: DeviceBuffer<UInt16>?
    let attendStep: (DeviceBuffer<Float>, DeviceBuffer<Float>, Int) throws -> Void

    var device: CUDADevice { decoder.device }
    var config: ModelConfig { decoder.config }

    func rmsNorm(_ out: DeviceBuffer<Float>, _ inp: DeviceBuffer<Float>, _ norm: LayerTensor, layer l: Int, rows: Int) throws {
        try decoder.rmsNorm(out, inp, decoder.layout.layers[l][norm]!, rows: rows)
    }

    func linear(_ out: DeviceBuffer<Float>, _ inp: DeviceBuffer<Float>, _ product: LayerProduct, layer l: Int, rows: Int) throws {
        let shape = config.shape(of: product)
        try decoder.linear(out, inp, decoder.layout.layers[l][shape.weight]!, bias: shape.bias.flatMap { decoder.layout.layers[l][$0] },
                           rows: rows, C: shape.inputs, OC: shape.outputs, rounded: rounded)
    }

    func attend(_ qkv: DeviceBuffer<Float>, _ att: DeviceBuffer<Float>, layer l: Int, rows: Int) throws { try attendStep(qkv, att, l) }

    func swiglu(_ hidden: DeviceBuffer<Float>, _ gateUp: DeviceBuffer<Float>, rows: Int) throws {
        let H = config.intermediateSize
        try device.launch("swiglu_forward", grid: (device.strideGrid(rows * H), 1), block: 256,
                          [hidden.argument, gateUp.argument, .int32(Int32(rows)), .int32(Int32(H))])
    }

    func addResidual(_ x: DeviceBuffer<Float>, _ y: DeviceBuffer<Float>, rows: Int) throws {
        let count = rows * config.hiddenSize
        try device.launch("add_in_place", grid: (device.strideGrid(count), 1), block: 256, [x.argument, y.argument, .int64(Int64(count))])
    }
}

/// Keys and values of every layer on the GPU, as CausalLM's KVCache: per layer (slots, capacity, KVH·D).
public final class CUDAKVCache: @unchecked Sendable {
    public let slots: Int
    public let capacity: Int
    let keys: [DeviceBuffer<Float>]
    let values: [DeviceBuffer<Float>]
    public internal(set) var lengths: [Int]

    public init(_ decoder: CUDADecoder, slots: Int, capacity: Int) throws {
        let cfg = decoder.config
        self.slots = slots
        self.capacity = min(capacity, cfg.maxPositions)
        let size = slots * self.capacity * cfg.kvHeads * cfg.headDim
        keys = try (0..<cfg.layers).map { _ in try decoder.device.allocate(Float.self, count: size) }
        values = try (0..<cfg.layers).map { _ in try decoder.device.allocate(Float.self, count: size) }
        lengths = Array(repeating: 0, count: slots)
    }
}
