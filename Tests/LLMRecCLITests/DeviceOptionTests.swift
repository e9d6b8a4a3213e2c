// `--device cuda` on a machine without CUDA: a clear failure before anything is written, in
// training and in evaluation.
import ArgumentParser
import CUDABackend
import Foundation
@testable import LLMRecCLI
import Testing

@Suite struct DeviceOptionTests {
    @Test func cudaWithoutADriverFailsClearlyAndWritesNothing() throws {
        guard (try? CUDALibrary.driver.open()) == nil else {
            print("skipped: this machine has a CUDA driver")
            return
        }
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-device-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = scratch.appendingPathComponent("data"), run = scratch.appendingPathComponent("run")
        var prepare = try LLMRec.parseAsRoot([
            "data", "prepare", "--dataset", tests.appendingPathComponent("RecDataTests/Fixtures/ml-100k").path, "--out", data.path, "--log-level", "error",
        ])
        try prepare.run()
        var train = try LLMRec.parseAsRoot([
            "train", "--model", tests.appendingPathComponent("CausalLMTests/Fixtures/tiny-llama").path, "--data", data.path, "--out", run.path,
            "--device", "cuda", "--batch", "2", "--max-steps", "1", "--log-level", "error",
        ])
        #expect { try train.run() } throws: { error in
            "\(error)".contains("--device cuda: CUDA cannot be used here") && "\(error)".contains("libcuda.so.1")
        }
        #expect(!FileManager.default.fileExists(atPath: run.path), "the run directory was written")

        let out = scratch.appendingPathComponent("eval.jsonl")
        var eval = try LLMRec.parseAsRoot([
            "eval", "--model", tests.appendingPathComponent("CausalLMTests/Fixtures/tiny-llama").path, "--data", data.path,
            "--device", "cuda", "--out", out.path, "--log-level", "error",
        ])
        #expect { try eval.run() } throws: { "\($0)".contains("--device cuda: CUDA cannot be used here") }
        #expect(!FileManager.default.fileExists(atPath: out.path), "the evaluation file was written")
    }
}
