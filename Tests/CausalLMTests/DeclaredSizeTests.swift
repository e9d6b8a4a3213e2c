// Sizes a damaged header declares never size an allocation or a loop: huge or overflowing
// dimensions in a config.json or a GGUF are refused with the key named, before any memory
// is allocated from them (no abort, no trap, no hang).
import Foundation
import ModelFormats
import Support
import Testing
@testable import CausalLM

@Suite struct DeclaredSizeTests {
    static let tinyLlama = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny-llama")

    /// A copy of the tiny Llama with one config.json key replaced.
    func patchedConfig(_ key: String, _ value: Any) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-sizes-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: Self.tinyLlama, to: dir)
        let url = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        config[key] = value
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return dir
    }

    @Test func hugeSizesInConfigJSONAreRefused() throws {
        for (key, value, expected) in [("intermediate_size", 10_000_000_000, "MLP width"), ("num_hidden_layers", 1_000_000, "layers"),
                                       ("num_hidden_layers", Int(Int32.max), "layers"), ("hidden_size", Int(Int32.max), "hidden size"),
                                       ("vocab_size", 1 << 40, "vocabulary"), ("max_position_embeddings", Int(Int32.max), "context length"),
                                       ("num_attention_heads", 1 << 20, "attention heads")] {
            let dir = try patchedConfig(key, value)
            defer { try? FileManager.default.removeItem(at: dir) }
            #expect { try DecoderModel(huggingFace: dir) } throws: { error in "\(error)".contains(expected) }
        }
        // Sizes within the limits but not matching the tensors are refused before allocating.
        let dir = try patchedConfig("intermediate_size", 1_000_000)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try DecoderModel(huggingFace: dir) } throws: { error in "\(error)".contains("shape") }
    }

    /// SmolLM2's GGUF with one u32 metadata value replaced.
    func patchedGGUF(_ key: String, _ value: UInt32, in dir: URL) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: try Assets.require(Assets.smollm2).path))
        let keyBytes = Data(key.utf8)
        guard let range = data.range(of: keyBytes) else { throw CocoaError(.fileReadCorruptFile) }
        // The key is followed by its value type (u32 = 4) and the value.
        let typeAt = range.upperBound
        #expect(data[typeAt] == 4, "\(key) is a u32 in this file")
        withUnsafeBytes(of: value.littleEndian) { data.replaceSubrange((typeAt + 4)..<(typeAt + 8), with: $0) }
        let out = dir.appendingPathComponent("\(key).gguf")
        try data.write(to: out)
        return out.path
    }

    @Test(.enabled(if: Assets.smollm2.isPresent, "needs SmolLM2; run scripts/fetch-assets.sh"))
    func hugeSizesInAGGUFAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-gguf-sizes-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (key, value, expected) in [("llama.block_count", UInt32(1_000_000), "layers"), ("llama.block_count", UInt32(Int32.max), "layers"),
                                       ("llama.context_length", UInt32(Int32.max), "context length"),
                                       ("llama.embedding_length", UInt32(Int32.max), "hidden size"),
                                       ("llama.feed_forward_length", UInt32(4_000_000), "MLP width"),
                                       ("llama.block_count", UInt32(31), "tensor")] {
            let path = try patchedGGUF(key, value, in: dir)
            #expect { try DecoderModel(gguf: GGUFFile(path: path)) } throws: { error in "\(error)".contains(expected) }
        }
    }
}
