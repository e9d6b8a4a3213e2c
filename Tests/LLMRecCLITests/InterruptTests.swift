// An interrupted command leaves nothing half-written: SIGINT or SIGTERM while `data prepare`
// writes its output removes the staging directory, and the exit status says which signal.
// Runs the built `llmrec` binary (beside the test bundle) as a user would.
import Foundation
import Support
import Testing

@Suite("llmrec interrupted", .serialized)
struct InterruptTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("llmrec")

    /// Runs `llmrec ARGUMENTS --log-level error`; with `signal`, sends it once `ready()` holds while
    /// the command runs (see ChildProcess).
    static func launch(_ arguments: [String], signal: Int32? = nil, interval: Double = 0.05,
                       when ready: () -> Bool = { true }) throws -> ChildProcess.Finished {
        try ChildProcess.run(binary, arguments + ["--log-level", "error"], signal: signal, interval: interval, when: ready)
    }

    /// How many lines a file has now (0 while it does not exist).
    static func lines(_ url: URL) -> Int { ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").count }

    @Test(.enabled(if: Assets.ml1m.isPresent, "needs the embedded datasets; run scripts/fetch-assets.sh"))
    func anInterruptedPrepareRemovesItsStagingDirectory() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "no llmrec binary at \(Self.binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-interrupt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func staging() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(".ml-1m.tmp-") } }
        let output = dir.appendingPathComponent("ml-1m")
        for signal in [SIGINT, SIGTERM] {
            // A signal that lands during the final rename lets the command finish (a complete
            // output, also clean); a few tries make sure the interrupted path is seen.
            var interrupted = false
            for _ in 0..<4 where !interrupted {
                try? FileManager.default.removeItem(at: output)
                // Interrupt while the output is being written (its staging directory exists).
                let run = try Self.launch(["data", "prepare", "--dataset", "ml-1m", "--out", output.path, "--force"],
                                          signal: signal, interval: 0.0002, when: { !staging().isEmpty })
                let message = run.errors
                #expect(staging().isEmpty, "left behind: \(staging()) (\(message))")
                if run.status == 0 {
                    #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("dataset.json").path))
                } else {
                    interrupted = true
                    #expect(run.exited && run.status == 128 + signal, "\(message)")
                    #expect(message.contains("interrupted; removed the unfinished"), "\(message)")
                    #expect(!FileManager.default.fileExists(atPath: output.path))
                }
            }
            #expect(interrupted, "signal \(signal) never landed before the command finished")
        }
    }
}

extension InterruptTests {
    /// A signal while the model's worker threads compute ends the command cleanly. Before, the
    /// process ran its exit-time destructors (OpenBLAS frees its buffers) under a worker still
    /// inside sgemm and crashed: 2 of 6 interrupted `bench train` runs of SmolLM2 did.
    @Test(.enabled(if: Assets.ml100k.isPresent && Assets.smollm2.isPresent, "needs the assets; run scripts/fetch-assets.sh"))
    func anInterruptDuringTrainingExitsWithoutCrashing() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "no llmrec binary at \(Self.binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-interrupt-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("ml-100k").path
        _ = try Self.launch(["data", "prepare", "--dataset", "ml-100k", "--out", data, "--max-train", "256"])
        for attempt in 0..<6 {
            // Far more steps than the wait: the workers are inside the products when it lands.
            let deadline = Date().addingTimeInterval(3 + 0.4 * Double(attempt))
            let run = try Self.launch(["bench", "train", "--data", data, "--steps", "1000"], signal: SIGTERM, when: { Date() >= deadline })
            #expect(run.exited && run.status == 128 + SIGTERM, "\(run.errors)")
            #expect(!run.errors.contains("crashed"), "\(run.errors)")
        }
    }
}

extension InterruptTests {
    /// Ctrl-C during a study's training stops it at the end of that step with a checkpoint there
    /// (between the planned ones), exits 130, and the next run resumes at that step.
    @Test(.enabled(if: Assets.ml100k.isPresent && Assets.smollm2.isPresent, "needs the assets; run scripts/fetch-assets.sh"))
    func aStudyStoppedWithCtrlCResumesAtTheStepItStopped() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "no llmrec binary at \(Self.binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-study-stop-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = dir.appendingPathComponent("plan.json")
        try Data("""
            {"name": "stop", "model": "smollm2", "dataset": {"source": "ml-100k", "history": 5},
             "samples": {"seed": 3, "train": 8, "valid": 4, "test": 10},
             "training": {"loss": "ce", "lr": 1e-3, "warmup": 1, "batch": 2, "epochs": 10, "max_steps": 40, "eval_every": 40, "lora_rank": 4},
             "evaluation": {"beams": 5, "batch": 10}, "decoders": [{"name": "plain"}],
             "arms": [{"name": "ce", "decoders": ["plain"]}], "baseline": "ce", "floors": {"popularity": false}}
            """.utf8).write(to: plan)
        let log = dir.appendingPathComponent("runs/ce/log.jsonl")
        let study = ["study", "run", plan.path, "--out", dir.path]
        // Once two steps are logged, well before the only planned checkpoint (step 40).
        let first = try Self.launch(study, signal: SIGINT, when: { Self.lines(log) >= 2 })
        #expect(first.status == 130, "\(first.errors)")
        #expect(first.errors.contains("stopping at the next safe point") && first.errors.contains("run the same command to continue"), "\(first.errors)")
        struct Clock: Decodable { var step: Int }
        let clock = try JSONDecoder().decode(Clock.self, from: Data(contentsOf: dir.appendingPathComponent("runs/ce/study-clock.json")))
        #expect(clock.step >= 1 && clock.step < 40, "checkpoint at step \(clock.step)")
        let second = try Self.launch(study)
        #expect(second.status == 0 && second.output.contains("resuming at step \(clock.step)"), "\(second.output)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("results/ce/plain.json").path))
    }
}

extension InterruptTests {
    /// Ctrl-C during `llmrec train` stops after that step with checkpoint-latest there, exits 130,
    /// and --resume continues from that step to the end.
    @Test(.enabled(if: Assets.ml100k.isPresent && Assets.smollm2.isPresent, "needs the assets; run scripts/fetch-assets.sh"))
    func aTrainingStoppedWithCtrlCResumesAtTheStepItStopped() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "no llmrec binary at \(Self.binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-train-stop-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path, run = dir.appendingPathComponent("run").path
        _ = try Self.launch(["data", "prepare", "--dataset", "ml-100k", "--out", data, "--max-train", "64"])
        let train = ["train", "--model", "smollm2", "--data", data, "--out", run, "--lora-rank", "4", "--batch", "2", "--max-steps", "30",
                     "--eval-every", "1000", "--valid-samples", "2"]
        let stopped = try Self.launch(train, signal: SIGINT, when: { Self.lines(dir.appendingPathComponent("run/log.jsonl")) >= 2 })
        #expect(stopped.status == 130 && stopped.errors.contains("training stopped after step") && stopped.errors.contains("--resume continues"),
                "\(stopped.errors)")
        struct State: Decodable { var step: Int }
        let step = try JSONDecoder().decode(State.self, from: Data(contentsOf: dir.appendingPathComponent("run/checkpoint-latest/state.json"))).step
        #expect(step >= 1 && step < 30, "checkpoint at step \(step)")
        let resumed = try Self.launch(train + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.errors)")
        let steps = try String(contentsOf: dir.appendingPathComponent("run/log.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["valid_loss"] == nil }.compactMap { $0["step"] as? Int }
        #expect(steps == Array(1...30), "each step logged once: \(steps)")
    }
}
