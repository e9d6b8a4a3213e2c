// What a damaged model file can be checked for, is: strings that are not UTF-8, a vocabulary
// with a repeated token or a merge of tokens it does not have, ids outside the token table,
// and weights that are not finite. Each is made by patching a few bytes of a real file, and
// each is refused naming the file and what is wrong.
import Foundation
import ModelFormats
import Support
import Testing
@testable import CausalLM
@testable import Tokenizers

@Suite struct DamagedModelTests {
    static let tinyLlama = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny-llama")

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-damaged-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// SmolLM2's GGUF with the bytes of one length-prefixed string replaced (same length).
    func patchedString(_ old: String, _ new: [UInt8], in dir: URL) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: try Assets.require(Assets.smollm2).path))
        let oldBytes = Array(old.utf8)
        precondition(oldBytes.count == new.count)
        var needle = withUnsafeBytes(of: UInt64(oldBytes.count).littleEndian) { Data($0) }
        needle.append(contentsOf: oldBytes)
        let range = try #require(data.range(of: needle), "\(old) is a string of the file")
        data.replaceSubrange((range.lowerBound + 8)..<range.upperBound, with: new)
        let out = dir.appendingPathComponent("patched.gguf")
        try data.write(to: out)
        return out.path
    }

    @Test(.enabled(if: Assets.smollm2.isPresent, "needs SmolLM2; run scripts/fetch-assets.sh"))
    func damagedVocabulariesAreRefused() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A byte that cannot start a UTF-8 character inside a token.
        var path = try patchedString("ĠThe", [0xC4, 0xA0, 0xFF, 0x68, 0x65], in: dir)
        #expect { try GGUFFile(path: path) } throws: { "\($0)".contains("is not valid UTF-8") }
        // "ĠThe" turned into a second "Ġthe".
        path = try patchedString("ĠThe", Array("Ġthe".utf8), in: dir)
        #expect { try BPETokenizer(gguf: GGUFFile(path: path)) } throws: { "\($0)".contains("repeats token") && "\($0)".contains("'Ġthe'") }
        // A merge whose second part is not a token.
        path = try patchedString("Ġt he", Array("Ġt h\u{7}".utf8), in: dir)
        #expect { try BPETokenizer(gguf: GGUFFile(path: path)) } throws: { "\($0)".contains("needs 'h\\u{7}', which is not a token") }
    }

    @Test(.enabled(if: Assets.smollm2.isPresent, "needs SmolLM2; run scripts/fetch-assets.sh"))
    func nonFiniteWeightsInAGGUFAreRefused() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try Assets.require(Assets.smollm2).path
        let norm = try #require(try GGUFFile(path: source).tensor("blk.3.ffn_norm.weight"))
        try #require(norm.type == .f32)
        var data = try Data(contentsOf: URL(fileURLWithPath: source))
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { data.replaceSubrange((norm.offset + 4 * 7)..<(norm.offset + 4 * 8), with: $0) }
        let path = dir.appendingPathComponent("nan.gguf").path
        try data.write(to: URL(fileURLWithPath: path))
        #expect { try DecoderModel(gguf: GGUFFile(path: path)) } throws: { "\($0)".contains("tensor 'blk.3.ffn_norm.weight' holds nan at index 7") }
    }

    /// A copy of the tiny Llama with one safetensors value or tokenizer.json entry changed.
    @Test func damagedHuggingFaceFilesAreRefused() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("tiny-llama")
        try FileManager.default.copyItem(at: Self.tinyLlama, to: copy)
        let tokenizerURL = copy.appendingPathComponent("tokenizer.json")
        let original = try Data(contentsOf: tokenizerURL)
        for (id, expected) in [(1 << 40, "the id 1099511627776"), (-3, "the id -3")] {
            var root = try JSONSerialization.jsonObject(with: original) as! [String: Any]
            var model = root["model"] as! [String: Any]
            var vocab = model["vocab"] as! [String: Int]
            vocab[vocab.keys.sorted()[5]] = id
            model["vocab"] = vocab
            root["model"] = model
            try JSONSerialization.data(withJSONObject: root).write(to: tokenizerURL)
            #expect { try BPETokenizer(directory: copy) } throws: { "\($0)".contains(expected) && "\($0)".contains("expected ids in 0..<") }
        }
        try original.write(to: tokenizerURL)
        // An infinite weight in model.safetensors: the header is JSON, then the data; damage the last value.
        let weights = copy.appendingPathComponent("model.safetensors")
        var data = try Data(contentsOf: weights)
        withUnsafeBytes(of: Float.infinity.bitPattern.littleEndian) { data.replaceSubrange((data.count - 4)..<data.count, with: $0) }
        try data.write(to: weights)
        #expect { try DecoderModel(huggingFace: copy) } throws: { "\($0)".contains("holds inf at index") && "\($0)".contains("model.safetensors") }
    }
}
