// Writing a tokenizer as Hugging Face files (tokenizer.json, tokenizer_config.json), so a model
// loaded from GGUF can be exported as a directory transformers and llmrec both read. The
// pre-tokenizer section is the one each family's own tokenizer.json carries; the vocabulary and
// merges are the loaded ones (merges in rank order), so encoding is unchanged.
import Foundation

extension PreTokenizerFamily {
    /// The `pre_tokenizer` section of this family's tokenizer.json.
    var huggingFaceJSON: [String: Any] {
        func byteLevel(useRegex: Bool, trimOffsets: Bool = true) -> [String: Any] {
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": trimOffsets, "use_regex": useRegex]
        }
        func split(_ regex: String) -> [String: Any] {
            ["type": "Split", "pattern": ["Regex": regex], "behavior": "Isolated", "invert": false]
        }
        let contractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
        let tail = "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
        switch self {
        case .gpt2:
            return byteLevel(useRegex: true)
        case .smollm:
            return ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel(useRegex: true)]]
        case .llama3:
            return ["type": "Sequence", "pretokenizers": [split(contractions + "\\p{N}{1,3}" + tail), byteLevel(useRegex: false)]]
        case .qwen2:
            return ["type": "Sequence", "pretokenizers": [split(contractions + "\\p{N}" + tail), byteLevel(useRegex: false)]]
        }
    }
}

extension BPETokenizer {
    /// The merges in rank order, as "a b" strings.
    var mergeStrings: [String] {
        model.merges.map { (key: $0.key, rank: $0.value.rank) }.sorted { $0.rank < $1.rank }.map { m in
            model.tokens[Int(m.key >> 32)] + " " + model.tokens[Int(m.key & 0xFFFF_FFFF)]
        }
    }

    /// tokenizer.json and tokenizer_config.json for this tokenizer.
    public func huggingFaceFiles(modelMaxLength: Int) throws -> (tokenizer: Data, config: Data) {
        var vocab: [String: Int] = [:]
        for (i, t) in model.tokens.enumerated() where vocab[t] == nil { vocab[t] = i }
        let addedTokens: [[String: Any]] = zip(added.contents, zip(added.ids, added.isSpecial)).map { content, rest in
            ["id": Int(rest.0), "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": rest.1]
        }.sorted { ($0["id"] as! Int) < ($1["id"] as! Int) }
        // BOS is added by the post-processor where the model wants it (Llama 3).
        var postProcessor: Any = ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true]
        if addsBOS, let bos = bosTokenID, let name = token(bos) {
            postProcessor = [
                "type": "TemplateProcessing",
                "single": [["SpecialToken": ["id": name, "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                "pair": [["SpecialToken": ["id": name, "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]],
                         ["SpecialToken": ["id": name, "type_id": 1]], ["Sequence": ["id": "B", "type_id": 1]]],
                "special_tokens": [name: ["id": name, "ids": [Int(bos)], "tokens": [name]]],
            ] as [String: Any]
        }
        let tokenizer: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": addedTokens, "normalizer": NSNull(),
            "pre_tokenizer": family.huggingFaceJSON, "post_processor": postProcessor,
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": model.ignoreMerges,
                "vocab": vocab, "merges": mergeStrings,
            ] as [String: Any],
        ]
        var decoderEntries: [String: Any] = [:]
        for entry in addedTokens { decoderEntries["\(entry["id"]!)"] = entry.filter { $0.key != "id" } }
        var config: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": false, "add_bos_token": addsBOS,
            "add_eos_token": false, "model_max_length": modelMaxLength, "added_tokens_decoder": decoderEntries,
        ]
        func name(_ id: Int32?) -> Any { id.flatMap(token) ?? NSNull() }
        config["bos_token"] = name(bosTokenID)
        config["eos_token"] = name(eosTokenID)
        config["pad_token"] = name(padTokenID)
        if let chatTemplate { config["chat_template"] = chatTemplate }
        let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try JSONSerialization.data(withJSONObject: tokenizer, options: options),
                try JSONSerialization.data(withJSONObject: config, options: options))
    }
}
