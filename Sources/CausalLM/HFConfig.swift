// A Hugging Face config.json for the Llama and Qwen2 families, with the checkpoint's
// snake_case names only in CodingKeys and the transformers defaults where a key is absent.
import Foundation
import Kernels
import ModelFormats
import Support

struct HFConfig: Decodable {
    var modelType: String
    var hiddenSize: Int
    var numHiddenLayers: Int
    var numAttentionHeads: Int
    var numKeyValueHeads: Int?
    var headDim: Int?
    var intermediateSize: Int
    var vocabSize: Int
    var ropeTheta: Double?
    var rmsNormEps: Double?
    var maxPositionEmbeddings: Int?
    var tieWordEmbeddings: Bool?
    var ropeScaling: RopeScaling?
    /// transformers ≥ 5 writes `rope_parameters` (with rope_theta inside) instead of rope_theta + rope_scaling.
    var ropeParameters: RopeScaling?

    struct RopeScaling: Decodable {
        var ropeTheta: Double?
        var ropeType: String?
        var type: String?
        var factor: Double?
        var lowFreqFactor: Double?
        var highFreqFactor: Double?
        var originalMaxPositionEmbeddings: Double?
        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", type, factor, ropeTheta = "rope_theta"
            case lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        }
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case intermediateSize = "intermediate_size", vocabSize = "vocab_size", ropeTheta = "rope_theta"
        case rmsNormEps = "rms_norm_eps", maxPositionEmbeddings = "max_position_embeddings"
        case tieWordEmbeddings = "tie_word_embeddings", ropeScaling = "rope_scaling", ropeParameters = "rope_parameters"
    }
}

extension ModelConfig {
    /// From `config.json` in a Hugging Face model directory.
    public init(huggingFace dir: URL) throws {
        let url = dir.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url) else {
            throw FormatError.missing(path: url.path, what: "config.json", hint: "A Hugging Face model directory holds config.json.")
        }
        let hf: HFConfig
        do {
            hf = try JSONDecoder().decode(HFConfig.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw FormatError.missing(path: url.path, what: "key '\(key.stringValue)'", hint: "It is required for a \(Architecture.allCases.map(\.rawValue)) model.")
        } catch {
            throw FormatError.invalid(path: url.path, what: "\(error)", expected: "a Llama or Qwen2 config.json")
        }
        guard let arch = Architecture(rawValue: hf.modelType) else {
            throw FormatError.unsupported(path: url.path, what: "model_type \(quoted(hf.modelType))",
                                          supported: Architecture.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var scaling: RoPETable.Llama3Scaling?
        if let s = hf.ropeScaling ?? hf.ropeParameters {
            let kind = s.ropeType ?? s.type ?? "default"
            switch kind {
            case "llama3":
                guard let f = s.factor, let lo = s.lowFreqFactor, let hi = s.highFreqFactor, let orig = s.originalMaxPositionEmbeddings else {
                    throw FormatError.invalid(path: url.path, what: "rope_scaling of type llama3 lacks a value",
                                              expected: "factor, low_freq_factor, high_freq_factor, original_max_position_embeddings")
                }
                scaling = RoPETable.Llama3Scaling(factor: f, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: orig)
            case "default":
                break
            default:
                throw FormatError.unsupported(path: url.path, what: "rope_scaling type \(quoted(kind))", supported: "llama3")
            }
        }
        self.init(
            architecture: arch, hiddenSize: hf.hiddenSize, layers: hf.numHiddenLayers, heads: hf.numAttentionHeads,
            kvHeads: hf.numKeyValueHeads ?? hf.numAttentionHeads,
            headDim: hf.headDim ?? hf.hiddenSize / max(hf.numAttentionHeads, 1),
            intermediateSize: hf.intermediateSize, vocabSize: hf.vocabSize,
            ropeTheta: hf.ropeTheta ?? hf.ropeParameters?.ropeTheta ?? arch.facts.defaultRopeTheta, ropeScaling: scaling,
            rmsNormEps: Float(hf.rmsNormEps ?? 1e-6), maxPositions: hf.maxPositionEmbeddings ?? 2048,
            tieWordEmbeddings: hf.tieWordEmbeddings ?? false)
        try validate(path: url.path)
    }
}

extension DecoderModel {
    /// Tensors a checkpoint may hold that the forward pass does not use.
    static let ignoredHFTensors: Set<String> = []

    /// Loads a Hugging Face directory: config.json and (sharded) safetensors.
    public convenience init(huggingFace dir: URL) throws {
        let config = try ModelConfig(huggingFace: dir)
        let tensors = try Safetensors.readDirectory(dir)
        // Every tensor is matched to its slot before the buffer is allocated (see the GGUF loader).
        let layout = ParameterLayout(config)
        var used = Set<String>()
        var jobs: [(SafetensorsTensor, TensorSlot)] = []
        func take(_ name: String, _ slot: TensorSlot) throws {
            guard let t = tensors[name] else {
                throw FormatError.missing(path: dir.path, what: "tensor \(quoted(name))", hint: "The checkpoint is not a complete \(config.architecture.rawValue) model.")
            }
            guard t.shape == slot.shape else {
                throw FormatError.invalid(path: t.file.path, what: "tensor \(quoted(name)) has shape \(t.shape)", expected: "\(slot.shape)")
            }
            used.insert(name)
            jobs.append((t, slot))
        }
        for (g, slot) in layout.globals { try take(WeightNames.huggingFace(g), slot) }
        for (i, layer) in layout.layers.enumerated() {
            for (t, slot) in layer { try take(WeightNames.huggingFace(t, layer: i), slot) }
        }
        // A tied checkpoint may still carry lm_head.weight (a copy of the embedding); it is not read.
        var allowed = Self.ignoredHFTensors
        if config.tieWordEmbeddings { allowed.insert(WeightNames.huggingFace(.lmHead)) }
        let leftover = tensors.keys.filter { !used.contains($0) && !allowed.contains($0) && !$0.hasSuffix("rotary_emb.inv_freq") }
        guard leftover.isEmpty else {
            throw FormatError.invalid(path: dir.path, what: "unexpected tensors \(leftover.sorted().prefix(5).map { quoted($0) }.joined(separator: ", "))",
                                      expected: "only the tensors of a \(config.architecture.rawValue) model")
        }
        self.init(config: config, zeroed: false)
        let buffer = parameters
        let ordered = jobs
        DispatchQueue.concurrentPerform(iterations: ordered.count) { j in
            ordered[j].0.read(into: buffer.view(ordered[j].1))
        }
        try requireFinite(ordered.map { (name: $0.0.name, file: $0.0.file.path, slot: $0.1) })
    }
}
