// Building a BPETokenizer from the files models come in:
//   GGUF metadata: tokenizer.ggml.{model, pre, tokens, token_type, merges, bos/eos/padding_token_id,
//                  add_bos_token}, tokenizer.chat_template (llama.cpp's names);
//   tokenizer.json (+ tokenizer_config.json): model.vocab/merges (both merge spellings),
//                  added_tokens, pre_tokenizer, and the template and BOS/EOS names of the config.
import Foundation
import ModelFormats
import Support

public enum TokenizerError: Error, CustomStringConvertible {
    case unsupported(file: String, what: String, supported: String)
    case invalid(file: String, what: String, expected: String)
    case missing(file: String, what: String)

    public var description: String {
        switch self {
        case .unsupported(let file, let what, let supported): "\(file): \(what) is not supported; supported: \(supported)"
        case .invalid(let file, let what, let expected): "\(file): \(what); expected \(expected)"
        case .missing(let file, let what): "\(file): \(what) is missing"
        }
    }
}

extension BPETokenizer {
    /// llama.cpp's `tokenizer.ggml.pre` names for the families we split like.
    static let ggufPreNames: [String: PreTokenizerFamily] = [
        "gpt2": .gpt2, "gpt-2": .gpt2, "default": .gpt2, "smollm": .smollm,
        "llama3": .llama3, "llama-bpe": .llama3, "llama-v3": .llama3, "qwen2": .qwen2,
    ]

    public convenience init(gguf: GGUFFile) throws {
        let file = gguf.path
        let kind = try gguf.string("tokenizer.ggml.model")
        guard kind == "gpt2" else {
            throw TokenizerError.unsupported(file: file, what: "tokenizer.ggml.model \(quoted(kind))", supported: "gpt2 (byte-level BPE)")
        }
        let pre = gguf.metadata["tokenizer.ggml.pre"]?.stringValue ?? "default"
        guard let family = Self.ggufPreNames[pre] else {
            throw TokenizerError.unsupported(file: file, what: "tokenizer.ggml.pre \(quoted(pre))",
                                             supported: Self.ggufPreNames.keys.sorted().joined(separator: ", "))
        }
        let tokens = try gguf.strings("tokenizer.ggml.tokens")
        let merges = try gguf.strings("tokenizer.ggml.merges").map(Self.splitMerge)
        var types: [Int] = []
        switch gguf.metadata["tokenizer.ggml.token_type"] {
        case .ints(let v)?: types = v.map { Int($0) }
        case .uints(let v)?: types = v.map { Int($0) }
        default: types = Array(repeating: 1, count: tokens.count)
        }
        guard types.count == tokens.count else {
            throw TokenizerError.invalid(file: file, what: "tokenizer.ggml.token_type has \(types.count) entries",
                                         expected: "one per token (\(tokens.count))")
        }
        // Types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
        let added = tokens.indices.filter { types[$0] == 3 || types[$0] == 4 }
            .map { (content: tokens[$0], id: Int32($0), special: types[$0] == 3) }
        try Self.checkVocabulary(tokens, merges: merges, file: file)
        let model = BPEModel(tokens: tokens, mergePairs: merges, ignoreMerges: family == .llama3)
        func tokenID(_ key: String) -> Int32? {
            gguf.metadata[key]?.intValue.flatMap { $0 >= 0 && $0 < tokens.count ? Int32($0) : nil }
        }
        guard let eos = tokenID("tokenizer.ggml.eos_token_id") else {
            throw TokenizerError.missing(file: file, what: "tokenizer.ggml.eos_token_id (a token id)")
        }
        var addsBOS = family == .llama3
        if case .bool(let b)? = gguf.metadata["tokenizer.ggml.add_bos_token"] { addsBOS = b }
        self.init(model: model, added: AddedTokens(added), family: family, bos: tokenID("tokenizer.ggml.bos_token_id"),
                  eos: eos, pad: tokenID("tokenizer.ggml.padding_token_id"), addsBOS: addsBOS,
                  chatTemplate: gguf.metadata["tokenizer.chat_template"]?.stringValue)
    }

    /// What a byte-level BPE vocabulary must satisfy, as Hugging Face's tokenizers checks when it
    /// builds one: each token string once (a table with holes leaves them empty), and each merge's
    /// two parts and their join tokens of the vocabulary. A damaged file fails here, naming the
    /// token or merge, instead of tokenizing wrongly without a word.
    static func checkVocabulary(_ tokens: [String], merges: [(String, String)], file: String) throws {
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() where !token.isEmpty {
            if let first = ids.updateValue(i, forKey: token) {
                throw TokenizerError.invalid(file: file, what: "token \(i) \(quoted(token)) repeats token \(first)", expected: "each token string once")
            }
        }
        for (rank, (a, b)) in merges.enumerated() {
            for part in [a, b, a + b] where ids[part] == nil {
                throw TokenizerError.invalid(file: file, what: "merge \(rank) (\(quoted(a)) + \(quoted(b))) needs \(quoted(part)), which is not a token",
                                             expected: "merges of the vocabulary's tokens")
            }
        }
    }

    /// "a b" → ("a", "b"). Symbols never contain a space: it is "Ġ" in byte-level form.
    static func splitMerge(_ m: String) -> (String, String) {
        guard let space = m.firstIndex(of: " ") else { return (m, "") }
        return (String(m[..<space]), String(m[m.index(after: space)...]))
    }

    /// Loads `tokenizer.json` (and `tokenizer_config.json` beside it, when present) from a model directory.
    public convenience init(directory: URL) throws {
        let url = directory.appendingPathComponent("tokenizer.json")
        let file = url.path
        guard let data = try? Data(contentsOf: url) else {
            throw TokenizerError.missing(file: file, what: "the file (a Hugging Face model directory has tokenizer.json)")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TokenizerError.invalid(file: file, what: "the file is not a JSON object", expected: "a tokenizers JSON file")
        }
        guard let model = root["model"] as? [String: Any], (model["type"] as? String) == "BPE" else {
            throw TokenizerError.unsupported(file: file, what: "model.type \(quoted(String(describing: (root["model"] as? [String: Any])?["type"] ?? "none")))",
                                             supported: "BPE")
        }
        guard let vocab = model["vocab"] as? [String: Int] else {
            throw TokenizerError.missing(file: file, what: "model.vocab (token → id)")
        }
        // Ids index the token table, so they must lie inside it: at most one per token.
        let addedEntries = root["added_tokens"] as? [[String: Any]] ?? []
        let idLimit = vocab.count + addedEntries.count
        if let (t, i) = vocab.first(where: { !(0..<idLimit).contains($0.value) }) {
            throw TokenizerError.invalid(file: file, what: "model.vocab gives \(quoted(t)) the id \(i)", expected: "ids in 0..<\(idLimit)")
        }
        var added: [(content: String, id: Int32, special: Bool)] = []
        for entry in addedEntries {
            guard let content = entry["content"] as? String, let id = entry["id"] as? Int else { continue }
            guard (0..<idLimit).contains(id) else {
                throw TokenizerError.invalid(file: file, what: "added token \(quoted(content)) has the id \(id)", expected: "ids in 0..<\(idLimit)")
            }
            added.append((content, Int32(id), entry["special"] as? Bool ?? false))
        }
        let size = max(vocab.values.max() ?? -1, added.map { Int($0.id) }.max() ?? -1) + 1
        var tokens = [String](repeating: "", count: size)
        for (t, i) in vocab { tokens[i] = t }
        for a in added { tokens[Int(a.id)] = a.content }
        var pairs: [(String, String)] = []
        for m in model["merges"] as? [Any] ?? [] {
            if let s = m as? String {
                pairs.append(Self.splitMerge(s))
            } else if let p = m as? [String], p.count == 2 {
                pairs.append((p[0], p[1]))
            }
        }
        let family = try Self.family(of: root["pre_tokenizer"], file: file)
        try Self.checkVocabulary(tokens, merges: pairs, file: file)
        let bpe = BPEModel(tokens: tokens, mergePairs: pairs, ignoreMerges: model["ignore_merges"] as? Bool ?? false)
        // tokenizer_config.json names BOS/EOS and carries the chat template.
        var config: [String: Any] = [:]
        if let d = try? Data(contentsOf: directory.appendingPathComponent("tokenizer_config.json")),
            let c = try? JSONSerialization.jsonObject(with: d) as? [String: Any]
        {
            config = c
        }
        func named(_ key: String) -> Int32? {
            let name = (config[key] as? String) ?? ((config[key] as? [String: Any])?["content"] as? String)
            return name.flatMap { n in added.first { $0.content == n }?.id ?? vocab[n].map(Int32.init) }
        }
        let eos = named("eos_token") ?? added.first { $0.content == "<|endoftext|>" }?.id
        guard let eos else {
            throw TokenizerError.missing(file: directory.appendingPathComponent("tokenizer_config.json").path,
                                         what: "eos_token (the end-of-sequence token's name)")
        }
        self.init(model: bpe, added: AddedTokens(added), family: family, bos: named("bos_token"), eos: eos,
                  pad: named("pad_token"), addsBOS: config["add_bos_token"] as? Bool ?? false,
                  chatTemplate: config["chat_template"] as? String)
    }

    /// Which of our splitters a tokenizer.json pre_tokenizer describes.
    static func family(of config: Any?, file: String) throws -> PreTokenizerFamily {
        guard let config = config as? [String: Any], let type = config["type"] as? String else {
            throw TokenizerError.missing(file: file, what: "pre_tokenizer")
        }
        let unsupported = TokenizerError.unsupported(
            file: file, what: "pre_tokenizer \(String(describing: config).prefix(200))",
            supported: "ByteLevel (GPT-2), Digits+ByteLevel (SmolLM), Split with the Llama-3 or Qwen2 regex + ByteLevel")
        switch type {
        case "ByteLevel":
            return .gpt2
        case "Sequence":
            let parts = config["pretokenizers"] as? [[String: Any]] ?? []
            let types = parts.compactMap { $0["type"] as? String }
            if types == ["Digits", "ByteLevel"], parts[0]["individual_digits"] as? Bool == true { return .smollm }
            if types.first == "Split", let pattern = (parts[0]["pattern"] as? [String: Any])?["Regex"] as? String {
                if pattern.contains("\\p{N}{1,3}") { return .llama3 }
                if pattern.contains("|\\p{N}|") || pattern.contains("|\\p{N}| ?") { return .qwen2 }
            }
            throw unsupported
        default:
            throw unsupported
        }
    }
}
