// The safetensors path and Qwen2's attention biases: a tiny random Qwen2 saved by transformers
// as sharded float16 safetensors (scripts/fixtures/make_model_fixtures.py), all-position logits.
import Foundation
import ModelFormats
import Tokenizers
import Testing
@testable import CausalLM

let tinyQwen2Dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny-qwen2")

@Suite("Tiny Qwen2 from safetensors")
struct TinyQwen2Tests {
    struct Case: Decodable { let ids: [Int32]; let logits: [[Double]] }

    @Test func configAndShards() throws {
        let cfg = try ModelConfig(huggingFace: tinyQwen2Dir)
        #expect(cfg.architecture == .qwen2 && cfg.attentionBias)
        #expect(cfg.hiddenSize == 64 && cfg.layers == 2 && cfg.heads == 4 && cfg.kvHeads == 2 && cfg.headDim == 16)
        #expect(cfg.ropeTheta == 10_000 && !cfg.tieWordEmbeddings)
        let tensors = try Safetensors.readDirectory(tinyQwen2Dir)
        #expect(tensors["model.layers.1.self_attn.q_proj.bias"]?.dtype == .f16)
        #expect(Set(tensors.values.map(\.file.path)).count == 5, "five shards")
    }

    @Test func logitsMatchTransformersAtEveryPosition() throws {
        struct Doc: Decodable { let cases: [Case] }
        let doc = try JSONDecoder().decode(Doc.self, from: Data(contentsOf: tinyQwen2Dir.deletingLastPathComponent()
            .appendingPathComponent("tiny_qwen2_logits.json")))
        let model = try DecoderModel(huggingFace: tinyQwen2Dir)
        for c in doc.cases {
            let logits = try model.forward([c.ids], cache: KVCache(config: model.config, slots: 1, capacity: 64), logits: .all)
            let want = c.logits.flatMap { $0 }
            #expect(logits.count == want.count)
            let diff = zip(logits, want).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(diff <= 1e-4, "ids \(c.ids.prefix(4))…: max logit difference \(diff)")
        }
    }

    @Test func badInputsToForward() throws {
        let model = try DecoderModel(huggingFace: tinyQwen2Dir)
        let cache = KVCache(config: model.config, slots: 2, capacity: 8)
        #expect(throws: ModelError.self) { try model.forward([[1], [2]], cache: cache, slots: [0, 0]) }
        #expect(throws: ModelError.self) { try model.forward([[1]], cache: cache, slots: [5]) }
        #expect(throws: ModelError.self) { try model.forward([[420]], cache: cache) }
        #expect(throws: ModelError.self) { try model.forward([Array(repeating: 1, count: 9)], cache: cache) }
        #expect(cache.lengths == [0, 0], "nothing is written when the input is refused")
        #expect(try model.forward([], cache: cache).isEmpty)
    }

    @Test func badCheckpointsAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-badhf-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: tinyQwen2Dir, to: dir)
        // A shard cut short.
        let shard = dir.appendingPathComponent("model-00002-of-00005.safetensors")
        let bytes = try Data(contentsOf: shard)
        try bytes.prefix(bytes.count - 10).write(to: shard)
        #expect { try DecoderModel(huggingFace: dir) } throws: { "\($0)".contains("model-00002-of-00005.safetensors: truncated or corrupt") }
        // An unknown architecture.
        try FileManager.default.copyItem(at: tinyQwen2Dir.appendingPathComponent("model-00002-of-00005.safetensors"), to: dir.appendingPathComponent("x"))
        try FileManager.default.removeItem(at: shard)
        try FileManager.default.moveItem(at: dir.appendingPathComponent("x"), to: shard)
        var config = try String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "\"model_type\": \"qwen2\"", with: "\"model_type\": \"gpt_neox\"")
        try config.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect { try DecoderModel(huggingFace: dir) } throws: { "\($0)".contains("model_type 'gpt_neox' is not supported") }
        // A header that lies about a tensor's size.
        let lie = dir.appendingPathComponent("lie.safetensors")
        let header = #"{"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,32]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header.utf8)
        data.append(Data(count: 32))
        try data.write(to: lie)
        #expect { try Safetensors.read(path: lie.path) } throws: { "\($0)".contains("tensor 'w' holds 32 bytes") }
    }
}

@Suite("Model loading errors")
struct ModelLoadingErrorTests {
    /// tiny.gguf (ModelFormats fixtures) says it is a llama model but holds no model keys or tokenizer.
    let tinyGGUF = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelFormatsTests/Fixtures/tiny.gguf").path

    @Test func missingKeysAndTokenizerAreNamed() throws {
        let file = try GGUFFile(path: tinyGGUF)
        #expect { try DecoderModel(gguf: file) } throws: { "\($0)".contains("metadata key 'llama.embedding_length' is missing") }
        #expect { try ModelSource.gguf(tinyGGUF).loadTokenizer() } throws: { "\($0)".contains("tokenizer.ggml.model") }
        #expect { try ModelSource.resolve("/no/such/model") } throws: { "\($0)".contains("/no/such/model") }
    }
}
