// What differs between the architectures llmrec runs, in one table: the q/k/v biases, the
// rotary layout of GGUF files, the default RoPE θ, and the names a Hugging Face export uses.
// Everything else (RMSNorm, SwiGLU, grouped-query attention, RoPE "rotate half") is shared.

public struct ArchitectureFacts: Sendable {
    /// Biases on the q, k and v projections (Qwen2).
    public var attentionBias: Bool
    /// llama.cpp's converter permutes the rows of q and k of Llama models into GGUF's rotary
    /// layout; loading undoes it (transformers' `reverse_permute` in its GGUF loader).
    public var ggufRotaryPermuted: Bool
    /// `rope_theta` when config.json leaves it out (transformers' config defaults).
    public var defaultRopeTheta: Double
    /// config.json's `architectures` entry and `model_type` for an export.
    public var huggingFaceClass: String
    public var modelType: String
    /// Flags transformers' config of this model type carries, written as they are.
    public var exportFlags: [String: Bool]
}

extension Architecture {
    public var facts: ArchitectureFacts {
        switch self {
        case .llama:
            ArchitectureFacts(attentionBias: false, ggufRotaryPermuted: true, defaultRopeTheta: 10_000, huggingFaceClass: "LlamaForCausalLM",
                              modelType: "llama", exportFlags: ["attention_bias": false, "mlp_bias": false])
        case .qwen2:
            ArchitectureFacts(attentionBias: true, ggufRotaryPermuted: false, defaultRopeTheta: 1_000_000, huggingFaceClass: "Qwen2ForCausalLM",
                              modelType: "qwen2", exportFlags: ["use_sliding_window": false])
        }
    }
}
