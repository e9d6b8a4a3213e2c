// Byte-level BPE tokenizer: added tokens, then the family's pre-tokenizer, then BPE on the
// UTF-8 bytes of each piece. Immutable after loading and safe to share across threads.
// Loaded from tokenizer.json (TokenizerLoading.swift) or from GGUF metadata.

public final class BPETokenizer: Sendable {
    public let family: PreTokenizerFamily
    let model: BPEModel
    let added: AddedTokens
    let preTokenizer: PreTokenizer
    private let cache = PieceCache()

    public let bosTokenID: Int32?
    public let eosTokenID: Int32
    public let padTokenID: Int32?
    /// Whether encoding for a model prepends BOS (Llama 3 does; SmolLM2 and Qwen2 do not).
    public let addsBOS: Bool
    /// The chat template's source, when the files carry one.
    public let chatTemplate: String?

    public var vocabularySize: Int { model.tokens.count }

    init(model: BPEModel, added: AddedTokens, family: PreTokenizerFamily, bos: Int32?, eos: Int32, pad: Int32?,
         addsBOS: Bool, chatTemplate: String?) {
        self.model = model
        self.added = added
        self.family = family
        preTokenizer = PreTokenizer(family: family)
        bosTokenID = bos
        eosTokenID = eos
        padTokenID = pad
        self.addsBOS = addsBOS
        self.chatTemplate = chatTemplate
    }

    /// The ids of `text`, without BOS/EOS (callers add those where the model wants them).
    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = []
        let bytes = Array(text.utf8)
        var start = 0
        var i = 0
        while i < bytes.count {
            if !added.isEmpty, let (k, length) = added.match(bytes, at: i) {
                if start < i { encodePlain(bytes[start..<i], into: &out) }
                out.append(added.ids[k])
                i += length
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { encodePlain(bytes[start..<bytes.count], into: &out) }
        return out
    }

    /// Text without added tokens: pre-tokenize, then BPE each piece.
    private func encodePlain(_ bytes: ArraySlice<UInt8>, into out: inout [Int32]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let scalars = Array(text.unicodeScalars)
        let classes = scalars.map(charClass)
        var pieces: [Range<Int>] = []
        preTokenizer.split(scalars, classes, into: &pieces)
        var utf8: [UInt8] = []
        for r in pieces {
            utf8.removeAll(keepingCapacity: true)
            for s in scalars[r] { utf8.append(contentsOf: String(s).utf8) }
            let key = String(decoding: utf8, as: UTF8.self)
            if let hit = cache.get(key) {
                out.append(contentsOf: hit)
            } else {
                var ids: [Int32] = []
                model.encode(utf8[...], into: &ids)
                cache.put(key, ids)
                out.append(contentsOf: ids)
            }
        }
    }

    /// The text of `ids`; bytes that do not form valid UTF-8 become U+FFFD, as in HF.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            guard id >= 0, Int(id) < model.tokens.count else { continue }
            if let k = added.indexOfID[id] {
                if skipSpecialTokens && added.isSpecial[k] { continue }
                bytes.append(contentsOf: added.contents[k].utf8)
                continue
            }
            for s in model.tokens[Int(id)].unicodeScalars {
                if let b = ByteLevel.scalarToByte[s.value] { bytes.append(b) } else { bytes.append(contentsOf: String(s).utf8) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The vocabulary entry of an id, for display.
    public func token(_ id: Int32) -> String? {
        guard id >= 0, Int(id) < model.tokens.count else { return nil }
        return model.tokens[Int(id)]
    }

    /// The id of a vocabulary entry or added token, if it has one.
    public func id(of token: String) -> Int32? {
        if let k = added.contents.firstIndex(of: token) { return added.ids[k] }
        return model.vocab[token]
    }
}
