// The shape of a Llama-family decoder (Llama 2/3, SmolLM2) or Qwen2 (the same with q/k/v
// biases), read from GGUF metadata or a Hugging Face config.json.
import Foundation
import Kernels
import ModelFormats
import Support

public enum Architecture: String, Sendable, Codable, CaseIterable {
    case llama, qwen2
}

public struct ModelConfig: Sendable, Equatable {
    public var architecture: Architecture
    /// C: width of the residual stream.
    public var hiddenSize: Int
    public var layers: Int
    /// NH and KVH.
    public var heads: Int
    public var kvHeads: Int
    /// D: per-head width.
    public var headDim: Int
    /// H: width of the MLP.
    public var intermediateSize: Int
    /// V.
    public var vocabSize: Int
    public var ropeTheta: Double
    public var ropeScaling: RoPETable.Llama3Scaling?
    /// GGUF Llama 3 files hold their RoPE scaling as per-frequency divisors (rope_freqs.weight).
    public var ropeFrequencyFactors: [Float]? = nil
    public var rmsNormEps: Float
    public var maxPositions: Int
    public var tieWordEmbeddings: Bool
    /// Qwen2 has biases on the q, k and v projections.
    public var attentionBias: Bool { architecture.facts.attentionBias }

    public var parameterCount: Int { ParameterLayout(self).count }
}

extension ModelConfig {
    /// From GGUF metadata (`{arch}.block_count`, `{arch}.attention.head_count`, …).
    public init(gguf: GGUFFile) throws {
        let arch = try gguf.string("general.architecture")
        guard let architecture = Architecture(rawValue: arch) else {
            throw FormatError.unsupported(path: gguf.path, what: "architecture \(quoted(arch))",
                                          supported: Architecture.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let C = try gguf.int("\(arch).embedding_length")
        let NH = try gguf.int("\(arch).attention.head_count")
        let embedding = try gguf.tensor("token_embd.weight").orThrow(
            FormatError.missing(path: gguf.path, what: "tensor 'token_embd.weight'", hint: "Is this a language model?"))
        self.init(
            architecture: architecture,
            hiddenSize: C,
            layers: try gguf.int("\(arch).block_count"),
            heads: NH,
            kvHeads: gguf.metadata["\(arch).attention.head_count_kv"]?.intValue ?? NH,
            headDim: gguf.metadata["\(arch).attention.key_length"]?.intValue ?? C / max(NH, 1),
            intermediateSize: try gguf.int("\(arch).feed_forward_length"),
            vocabSize: embedding.dims.count == 2 ? embedding.dims[1] : 0,
            ropeTheta: gguf.metadata["\(arch).rope.freq_base"]?.doubleValue ?? 10_000,
            ropeScaling: nil,
            rmsNormEps: Float(gguf.metadata["\(arch).attention.layer_norm_rms_epsilon"]?.doubleValue ?? 1e-6),
            maxPositions: gguf.metadata["\(arch).context_length"]?.intValue ?? 2048,
            tieWordEmbeddings: gguf.tensor("output.weight") == nil)
        if let freqs = gguf.tensor("rope_freqs.weight") {
            guard freqs.elementCount == headDim / 2 else {
                throw FormatError.invalid(path: gguf.path, what: "tensor 'rope_freqs.weight' has \(freqs.elementCount) values",
                                          expected: "one per rotated pair (\(headDim / 2))")
            }
            ropeFrequencyFactors = gguf.floats(freqs)
        }
        try validate(path: gguf.path)
    }

    /// Checks the numbers fit together, naming the key that does not.
    func validate(path: String) throws {
        func check(_ ok: Bool, _ what: String, _ expected: String) throws {
            if !ok { throw FormatError.invalid(path: path, what: what, expected: expected) }
        }
        try check(hiddenSize > 0 && layers > 0 && heads > 0 && kvHeads > 0 && headDim > 0 && intermediateSize > 0 && vocabSize > 0,
                  "the model sizes include zero or negative values", "positive sizes")
        // Bounds far above any model llmrec runs, so that no loop or product is sized from a
        // damaged header (the tensors present bound the parameters; these bound what is not a tensor).
        for (name, value, limit) in [("hidden size", hiddenSize, Self.limits.hidden), ("layers", layers, Self.limits.layers),
                                     ("attention heads", heads, Self.limits.heads), ("key/value heads", kvHeads, Self.limits.heads),
                                     ("head dimension", headDim, Self.limits.headDim), ("MLP width", intermediateSize, Self.limits.mlp),
                                     ("vocabulary", vocabSize, Self.limits.vocabulary), ("context length", maxPositions, Self.limits.context)] {
            try check(value <= limit, "\(name) \(value)", "at most \(limit)")
        }
        try check(heads % kvHeads == 0, "\(heads) attention heads and \(kvHeads) key/value heads", "heads a multiple of key/value heads")
        try check(headDim % 2 == 0, "head dimension \(headDim)", "an even head dimension (rotary embedding)")
        try check(maxPositions > 0, "context length \(maxPositions)", "a positive context length")
    }
}

extension ModelConfig {
    /// The largest sizes a config may declare.
    static let limits = (hidden: 65_536, layers: 1_024, heads: 1_024, headDim: 4_096, mlp: 1_048_576, vocabulary: 4_194_304, context: 1_048_576)
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
