// The model commands on the tiny Qwen2 fixture (a Hugging Face directory made by
// scripts/fixtures/make_model_fixtures.py): they run, and their helpers do what they say.
import ArgumentParser
import CatalogIndex
import CausalLM
import Foundation
@testable import LLMRecCLI
import RecData
import Testing
import Tokenizers
import Training

let tinyModelDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("CausalLMTests/Fixtures/tiny-qwen2").path

@Suite("Model commands")
struct ModelCommandTests {
    @Test func commandsRunOnATinyModel() throws {
        for args in [
            ["tokenize", "--model", tinyModelDir, "--json", "Toy Story (1995)", "<|im_start|>hi"],
            ["tokenize", "--model", tinyModelDir, "--pieces", "Heat"],
            ["model", "info", "--model", tinyModelDir],
            ["logits", "--model", tinyModelDir, "--prompt", "Toy Story", "--top", "3", "--json"],
            ["generate", "--model", tinyModelDir, "--prompt", "Toy", "--max-tokens", "3"],
            ["generate", "--model", tinyModelDir, "--prompt", "Toy", "--max-tokens", "2", "--chat"],
            ["bench", "forward", "--model", tinyModelDir, "--batch", "2", "--tokens", "8", "--decode-steps", "2", "--runs", "1", "--json"],
        ] {
            var command = try LLMRec.parseAsRoot(args + ["--log-level", "error"])
            try command.run()
        }
    }

    @Test func igOnAFixtureDataset() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RecDataTests/Fixtures")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-ig-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        var prepare = try LLMRec.parseAsRoot(["data", "prepare", "--dataset", fixtures.appendingPathComponent("ml-1m").path,
                                              "--out", out.path, "--log-level", "error"])
        try prepare.run()
        for extra in [["--json"], []] {
            var ig = try LLMRec.parseAsRoot(["ig", "--data", out.path, "--model", tinyModelDir, "--log-level", "error"] + extra)
            try ig.run()
        }
        // The sequences end with EOS and start with the response's opening quote.
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: tinyModelDir))
        let seqs = TokenizedCatalog.responseSequences(try DatasetReader.open(out), tokenizer: tokenizer)
        #expect(seqs.count == 4 && seqs.allSatisfy { $0.last == tokenizer.eosTokenID })
        #expect(tokenizer.decode(Array(seqs[0].dropLast())) == "\"Heat (1995)\"")
    }

    @Test func badModelsAndOptionsSayWhatIsWrong() throws {
        var missing = try LLMRec.parseAsRoot(["model", "info", "--model", "/nonexistent/model.gguf"])
        #expect { try missing.run() } throws: { "\($0)".contains("/nonexistent/model.gguf") && "\($0)".contains("missing") }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-nomodel-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        var noConfig = try LLMRec.parseAsRoot(["logits", "--model", empty.path, "--prompt", "x"])
        #expect { try noConfig.run() } throws: { "\($0)".contains("config.json") }
        #expect(throws: (any Error).self) { try LLMRec.parseAsRoot(["logits", "--prompt", "x", "--top", "0"]) }
        #expect(throws: (any Error).self) { try LLMRec.parseAsRoot(["generate", "--prompt", "x", "--max-tokens", "0"]) }
    }

    @Test func promptsAndHelpers() throws {
        let tokenizer = try BPETokenizer(directory: URL(fileURLWithPath: tinyModelDir))
        let plain = try encodePrompt("Heat (1995)", chat: false, tokenizer: tokenizer)
        #expect(plain == tokenizer.encode("Heat (1995)"))
        let chat = try encodePrompt("Heat", chat: true, tokenizer: tokenizer)
        #expect(tokenizer.decode(chat) == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHeat<|im_end|>\n<|im_start|>assistant\n")
        #expect(throws: (any Error).self) { try encodePrompt("", chat: false, tokenizer: tokenizer) }
        #expect(topIndices([0.1, 3, -2, 3.5, 1], 3) == [3, 1, 4])
        #expect(topIndices([1, 2], 5) == [1, 0])
        #expect(jsonString("a\"b\n") == #""a\"b\n""#)
    }
}
