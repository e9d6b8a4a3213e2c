// `--device cuda` on a machine without CUDA: a clear failure before anything is written, in
// training, in evaluation and in a study.
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

        let plan = scratch.appendingPathComponent("plan.json"), study = scratch.appendingPathComponent("study")
        try Data(#"""
            {"name": "tiny", "model": "smollm2", "dataset": {"source": "ml-100k", "history": 5},
             "samples": {"seed": 1, "train": 8, "valid": 4, "test": 20},
             "training": {"loss": "ce", "batch": 2, "max_steps": 1},
             "evaluation": {"beams": 5, "batch": 10}, "decoders": [{"name": "plain"}],
             "arms": [{"name": "ce", "decoders": ["plain"]}], "baseline": "ce", "floors": {"popularity": true}}
            """#.utf8).write(to: plan)
        var studyRun = try LLMRec.parseAsRoot(["study", "run", plan.path, "--out", study.path, "--device", "cuda", "--log-level", "error"])
        #expect { try studyRun.run() } throws: { "\($0)".contains("--device cuda: CUDA cannot be used here") }
        #expect(!FileManager.default.fileExists(atPath: study.path), "the study directory was written")
    }
}
