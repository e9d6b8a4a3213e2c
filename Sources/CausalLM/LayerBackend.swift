// The seam between the decoder's math and where it runs. One decoder layer is written once
// (`decoderLayer`) as a sequence of steps that a backend runs on its own buffers: the CPU backend
// in DecoderModel.swift (pointers, OpenBLAS and the panel kernels) and the GPU backend in
// Sources/CUDAModel (device buffers, cuBLAS and NVRTC-compiled kernels). What a step reads and
// writes is the backend's business; the order of the steps, and so the math, is this file's.

/// The products of one layer; Wq, Wk, Wv (and their biases) are adjacent in the layout, as are
/// Wgate and Wup, so each fused product is one (outputs, inputs) weight.
public enum LayerProduct: Sendable, CaseIterable {
    case qkv, output, gateUp, down
}

extension ModelConfig {
    /// The weight (and bias) a product starts at, its inputs and outputs.
    public func shape(of product: LayerProduct) -> (weight: LayerTensor, bias: LayerTensor?, inputs: Int, outputs: Int) {
        let qw = heads * headDim, QKV = qw + 2 * kvHeads * headDim
        switch product {
        case .qkv: return (.wq, attentionBias ? .bq : nil, hiddenSize, QKV)
        case .output: return (.wo, nil, qw, hiddenSize)
        case .gateUp: return (.wGate, nil, hiddenSize, 2 * intermediateSize)
        case .down: return (.wDown, nil, intermediateSize, hiddenSize)
        }
    }
}

/// A layer's activations, rows × width each: the residual stream x, the normed stream xn, the
/// fused q|k|v, the attention output, the fused gate|up and the MLP's hidden activations.
public struct LayerBuffers<Buffer> {
    public var x, xn, qkv, att, gateUp, hidden: Buffer
    public init(x: Buffer, xn: Buffer, qkv: Buffer, att: Buffer, gateUp: Buffer, hidden: Buffer) {
        self.x = x; self.xn = xn; self.qkv = qkv; self.att = att; self.gateUp = gateUp; self.hidden = hidden
    }
}

/// The steps of a decoder layer, as one backend runs them.
public protocol LayerBackend {
    associatedtype Buffer
    /// out (rows, C) = RMSNorm(inp) · the layer's `norm` weight (.attnNorm or .mlpNorm).
    func rmsNorm(_ out: Buffer, _ inp: Buffer, _ norm: LayerTensor, layer: Int, rows: Int) throws
    /// out = inp · Wᵀ (+ bias) for one of the layer's products (shapes: ModelConfig.shape(of:)).
    func linear(_ out: Buffer, _ inp: Buffer, _ product: LayerProduct, layer: Int, rows: Int) throws
    /// RoPE on q and k, keys and values stored where this pass keeps them, then causal attention
    /// of each row's queries over its keys into att: the one step that depends on where keys live.
    func attend(_ qkv: Buffer, _ att: Buffer, layer: Int, rows: Int) throws
    /// hidden (rows, H) = silu(gate) ⊙ up.
    func swiglu(_ hidden: Buffer, _ gateUp: Buffer, rows: Int) throws
    /// x += y over rows × C.
    func addResidual(_ x: Buffer, _ y: Buffer, rows: Int) throws
}

/// One decoder layer on `rows` rows of the residual stream, in place:
///   x += Attention(RoPE(RMSNorm(x)·(Wq, Wk, Wv)ᵀ))·Woᵀ
///   x += (silu(RMSNorm(x)·Wgateᵀ) ⊙ RMSNorm(x)·Wupᵀ)·Wdownᵀ
public func decoderLayer<B: LayerBackend>(_ l: Int, rows N: Int, on backend: B, _ b: LayerBuffers<B.Buffer>) throws {
    try backend.rmsNorm(b.xn, b.x, .attnNorm, layer: l, rows: N)
    try backend.linear(b.qkv, b.xn, .qkv, layer: l, rows: N)
    try backend.attend(b.qkv, b.att, layer: l, rows: N)
    try backend.linear(b.xn, b.att, .output, layer: l, rows: N)
    try backend.addResidual(b.x, b.xn, rows: N)

    try backend.rmsNorm(b.xn, b.x, .mlpNorm, layer: l, rows: N)
    try backend.linear(b.gateUp, b.xn, .gateUp, layer: l, rows: N)
    try backend.swiglu(b.hidden, b.gateUp, rows: N)
    try backend.linear(b.xn, b.hidden, .down, layer: l, rows: N)
    try backend.addResidual(b.x, b.xn, rows: N)
}
