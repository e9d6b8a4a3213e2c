// Writing a model as a Hugging Face directory: config.json as transformers writes it for the
// Llama and Qwen2 families, model.safetensors with transformers' tensor names (float32: the
// trained master weights, unrounded), generation_config.json, and the tokenizer's files.
import Foundation
import ModelFormats
import Tokenizers

extension DecoderModel {
    /// The config.json of this model.
    public func huggingFaceConfig(tokenizer: BPETokenizer) throws -> Data {
        let c = config
        guard c.ropeFrequencyFactors == nil || c.ropeScaling != nil else {
            throw FormatError.unsupported(path: "config.json", what: "RoPE given only as per-frequency factors (a GGUF rope_freqs tensor)",
                                          supported: "models whose RoPE scaling has llama3 parameters")
        }
        // Floats as their shortest decimal (1e-05, not 9.99999974e-06).
        let eps = Double("\(c.rmsNormEps)") ?? Double(c.rmsNormEps)
        var json: [String: Any] = [
            "hidden_size": c.hiddenSize, "intermediate_size": c.intermediateSize, "num_hidden_layers": c.layers,
            "num_attention_heads": c.heads, "num_key_value_heads": c.kvHeads, "head_dim": c.headDim,
            "max_position_embeddings": c.maxPositions, "rms_norm_eps": eps, "rope_theta": c.ropeTheta,
            "tie_word_embeddings": c.tieWordEmbeddings, "vocab_size": c.vocabSize, "hidden_act": "silu",
            "initializer_range": 0.02, "use_cache": true, "torch_dtype": "float32", "attention_dropout": 0.0,
            "eos_token_id": Int(tokenizer.eosTokenID),
        ]
        if let bos = tokenizer.bosTokenID { json["bos_token_id"] = Int(bos) }
        if let pad = tokenizer.padTokenID { json["pad_token_id"] = Int(pad) }
        let facts = c.architecture.facts
        json["architectures"] = [facts.huggingFaceClass]
        json["model_type"] = facts.modelType
        for (key, value) in facts.exportFlags { json[key] = value }
        if let s = c.ropeScaling {
            json["rope_scaling"] = ["rope_type": "llama3", "factor": s.factor, "low_freq_factor": s.lowFreqFactor,
                                    "high_freq_factor": s.highFreqFactor, "original_max_position_embeddings": Int(s.originalMaxPositions)]
        }
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }

    /// Every weight under its transformers name, pointing into the parameter buffer.
    public func huggingFaceTensors() -> [SafetensorsEntry] {
        var out: [SafetensorsEntry] = []
        for t in GlobalTensor.allCases {
            if let slot = layout.globals[t] { out.append(SafetensorsEntry(name: WeightNames.huggingFace(t), shape: slot.shape, data: parameters.view(slot))) }
        }
        for (l, layer) in layout.layers.enumerated() {
            for t in LayerTensor.allCases {
                if let slot = layer[t] { out.append(SafetensorsEntry(name: WeightNames.huggingFace(t, layer: l), shape: slot.shape, data: parameters.view(slot))) }
            }
        }
        return out
    }

    /// Writes config.json, generation_config.json, model.safetensors and the tokenizer files into `dir`.
    public func saveHuggingFace(to dir: URL, tokenizer: BPETokenizer) throws {
        try huggingFaceConfig(tokenizer: tokenizer).write(to: dir.appendingPathComponent("config.json"))
        var generation: [String: Any] = ["eos_token_id": Int(tokenizer.eosTokenID)]
        if let bos = tokenizer.bosTokenID { generation["bos_token_id"] = Int(bos) }
        try JSONSerialization.data(withJSONObject: generation, options: [.prettyPrinted, .sortedKeys])
            .write(to: dir.appendingPathComponent("generation_config.json"))
        try Safetensors.write(huggingFaceTensors(), to: dir.appendingPathComponent("model.safetensors"))
        let files = try tokenizer.huggingFaceFiles(modelMaxLength: config.maxPositions)
        try files.tokenizer.write(to: dir.appendingPathComponent("tokenizer.json"))
        try files.config.write(to: dir.appendingPathComponent("tokenizer_config.json"))
    }
}
