// The tokenizer against HF tokenizers (scripts/fixtures/make_tokenizer_fixtures.py): pre-tokenizer
// splits for every family, SmolLM2 ids and decoding on a few hundred strings, the ChatML prompt,
// and tokenizer.json loading with a tiny trained Qwen2-style tokenizer.
import Foundation
import ModelFormats
import Testing
@testable import Tokenizers

func tokenizerFixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(name)
}

let smolLM2GGUF: String = {
    let home = ProcessInfo.processInfo.environment["LLMREC_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/llmrec").path
    return home + "/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
}()
let haveSmolLM2 = FileManager.default.fileExists(atPath: smolLM2GGUF)

/// Shows the first difference between two id lists with their tokens.
func explain(_ text: String, _ got: [Int32], _ want: [Int], _ tok: BPETokenizer) -> Comment {
    let k = zip(got, want).enumerated().first { Int($0.element.0) != $0.element.1 }?.offset ?? min(got.count, want.count)
    let show = { (ids: [Int]) in ids.dropFirst(max(0, k - 2)).prefix(6).map { "\($0)=\(tok.token(Int32($0)) ?? "?")" } }
    return "\(text.debugDescription): first difference at \(k): got \(show(got.map(Int.init))) want \(show(want))"
}

@Suite("Tokenizer")
struct TokenizerTests {
    struct Splits: Decodable {
        struct Family: Decodable { let splits: [[String]] }
        let strings: [String]
        let families: [String: Family]
    }

    @Test(arguments: PreTokenizerFamily.allCases)
    func preTokenizerSplitsMatchHF(_ family: PreTokenizerFamily) throws {
        let doc = try JSONDecoder().decode(Splits.self, from: Data(contentsOf: tokenizerFixture("pretokenizer_splits.json")))
        let expected = try #require(doc.families[family.rawValue]).splits
        let pre = PreTokenizer(family: family)
        var failures = 0
        for (text, want) in zip(doc.strings, expected) {
            let scalars = Array(text.unicodeScalars)
            var ranges: [Range<Int>] = []
            pre.split(scalars, scalars.map(charClass), into: &ranges)
            var got = ranges.map { String(String.UnicodeScalarView(scalars[$0])) }
            // HF's ByteLevel step shows SmolLM pieces in byte-level form.
            if family == .smollm { got = got.map { ByteLevel.encode($0.utf8) } }
            if got != want {
                failures += 1
                if failures <= 5 { Issue.record("\(family) \(text.debugDescription): got \(got), want \(want)") }
            }
        }
        #expect(failures == 0, "\(failures) of \(doc.strings.count) strings split differently")
    }

    struct TokenCase: Decodable { let text: String; let ids: [Int]; let decoded: String? }
    struct TokenDoc: Decodable { let cases: [TokenCase] }

    @Test(.enabled(if: haveSmolLM2, "needs SmolLM2; run scripts/fetch-assets.sh"))
    func smolLM2IdsMatchHFOnEveryString() throws {
        let tok = try BPETokenizer(gguf: GGUFFile(path: smolLM2GGUF))
        let doc = try JSONDecoder().decode(TokenDoc.self, from: Data(contentsOf: tokenizerFixture("smollm2_tokens.json")))
        #expect(doc.cases.count > 300)
        var failures = 0
        for c in doc.cases {
            let got = tok.encode(c.text)
            if got.map(Int.init) != c.ids {
                failures += 1
                if failures <= 5 { Issue.record(explain(c.text, got, c.ids, tok)) }
            }
            if let decoded = c.decoded { #expect(tok.decode(got) == decoded, "decode \(c.text.debugDescription)") }
        }
        #expect(failures == 0, "\(failures) of \(doc.cases.count) strings tokenized differently")
        #expect(tok.eosTokenID == 2 && tok.bosTokenID == 1 && !tok.addsBOS)
        #expect(tok.encode("<|im_start|>user") == [1, 4093])
    }

    /// GGUF → tokenizer.json + tokenizer_config.json (what `llmrec export` writes) → the same ids
    /// on every fixture string, and the same special tokens and chat template.
    @Test(.enabled(if: haveSmolLM2, "needs SmolLM2; run scripts/fetch-assets.sh"))
    func exportedSmolLM2TokenizerFilesEncodeAsHFDoes() throws {
        let tok = try BPETokenizer(gguf: GGUFFile(path: smolLM2GGUF))
        let back = try roundTrip(tok)
        let doc = try JSONDecoder().decode(TokenDoc.self, from: Data(contentsOf: tokenizerFixture("smollm2_tokens.json")))
        let failures = doc.cases.filter { back.encode($0.text).map(Int.init) != $0.ids }
        #expect(failures.isEmpty, "\(failures.count) strings differ, first \(failures.first?.text.debugDescription ?? "")")
        #expect(back.family == tok.family && back.eosTokenID == tok.eosTokenID && back.bosTokenID == tok.bosTokenID)
        #expect(back.padTokenID == tok.padTokenID && back.addsBOS == tok.addsBOS && back.chatTemplate == tok.chatTemplate)
        #expect(back.vocabularySize == tok.vocabularySize)
    }

    /// A tokenizer.json written back out carries the family's pre-tokenizer exactly as HF's file has it.
    @Test func exportedQwen2TokenizerMatchesItsSource() throws {
        let dir = tokenizerFixture("tiny-qwen2")
        let tok = try BPETokenizer(directory: dir)
        let back = try roundTrip(tok)
        for text in ["Hello world", "Toy Story (1995)", "  numbers 12345 and 'contractions' we'll", "日本語 😀"] {
            #expect(back.encode(text) == tok.encode(text), "\(text)")
        }
        let original = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))) as! [String: Any]
        let written = try JSONSerialization.jsonObject(with: tok.huggingFaceFiles(modelMaxLength: 128).tokenizer) as! [String: Any]
        #expect(NSDictionary(dictionary: original["pre_tokenizer"] as! [String: Any]).isEqual(to: written["pre_tokenizer"] as! [String: Any]))
    }

    func roundTrip(_ tok: BPETokenizer) throws -> BPETokenizer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-tok-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try tok.huggingFaceFiles(modelMaxLength: 8192)
        try files.tokenizer.write(to: dir.appendingPathComponent("tokenizer.json"))
        try files.config.write(to: dir.appendingPathComponent("tokenizer_config.json"))
        return try BPETokenizer(directory: dir)
    }

    @Test(.enabled(if: haveSmolLM2, "needs SmolLM2; run scripts/fetch-assets.sh"))
    func chatTemplateMatchesTransformers() throws {
        struct Chat: Decodable { let template: String; let user: String; let rendered: String; let ids: [Int] }
        let chat = try JSONDecoder().decode(Chat.self, from: Data(contentsOf: tokenizerFixture("chat_template.json")))
        let tok = try BPETokenizer(gguf: GGUFFile(path: smolLM2GGUF))
        #expect(tok.chatTemplate == chat.template)
        let template = try ChatTemplate(template: try #require(tok.chatTemplate))
        let rendered = template.render(user: chat.user)
        #expect(rendered == chat.rendered)
        #expect(tok.encode(rendered).map(Int.init) == chat.ids)
    }

    @Test func tokenizerJSONWithBothMergeSpellings() throws {
        struct Case: Decodable { let text: String; let ids: [Int] }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: tokenizerFixture("tiny_qwen2_tokens.json")))
        let dir = tokenizerFixture("tiny-qwen2")
        let tok = try BPETokenizer(directory: dir)
        #expect(tok.family == .qwen2)
        #expect(tok.vocabularySize == 420)
        #expect(tok.eosTokenID == tok.id(of: "<|im_end|>"))
        // The legacy spelling of merges ("a b" strings) must load to the same tokenizer.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))) as! [String: Any]
        var model = json["model"] as! [String: Any]
        model["merges"] = (model["merges"] as! [[String]]).map { $0.joined(separator: " ") }
        json["model"] = model
        let legacy = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-tok-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json).write(to: legacy.appendingPathComponent("tokenizer.json"))
        try FileManager.default.copyItem(at: dir.appendingPathComponent("tokenizer_config.json"),
                                         to: legacy.appendingPathComponent("tokenizer_config.json"))
        let tok2 = try BPETokenizer(directory: legacy)
        var failures = 0
        for c in cases {
            let got = tok.encode(c.text)
            if got.map(Int.init) != c.ids {
                failures += 1
                if failures <= 5 { Issue.record(explain(c.text, got, c.ids, tok)) }
            }
            #expect(tok2.encode(c.text) == got)
            #expect(tok.decode(got) == c.text, "round trip \(c.text.debugDescription)")
        }
        #expect(failures == 0)
        let chat = try ChatTemplate(template: try #require(tok.chatTemplate))
        #expect(chat.defaultSystem == "You are a helpful assistant.")
    }

    @Test func badTokenizerFilesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-badtok-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #expect { try BPETokenizer(directory: dir) } throws: { "\($0)".contains("tokenizer.json: the file") }
        try Data("{\"model\": {\"type\": \"Unigram\"}}".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect { try BPETokenizer(directory: dir) } throws: { "\($0)".contains("model.type 'Unigram' is not supported") }
        try Data("[1,2".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect { try BPETokenizer(directory: dir) } throws: { "\($0)".contains("not a JSON object") }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(template: "{{ bos_token }}{{ message }}") }
    }
}
