// An interrupted command leaves nothing half-written: SIGINT or SIGTERM while `data prepare`
// writes its output removes the staging directory, and the exit status says which signal.
// Runs the built `llmrec` binary (beside the test bundle) as a user would.
import Foundation
import Support
import Testing

@Suite("llmrec interrupted", .serialized)
struct InterruptTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("llmrec")

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
                let process = Process()
                process.executableURL = Self.binary
                process.arguments = ["data", "prepare", "--dataset", "ml-1m", "--out", output.path, "--force", "--log-level", "error"]
                let errors = Pipe()
                process.standardError = errors
                try process.run()
                // Interrupt while the output is being written (its staging directory exists).
                while process.isRunning {
                    if !staging().isEmpty {
                        kill(process.processIdentifier, signal)
                        break
                    }
                    usleep(200)
                }
                process.waitUntilExit()
                let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                #expect(staging().isEmpty, "left behind: \(staging()) (\(message))")
                if process.terminationStatus == 0 {
                    #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("dataset.json").path))
                } else {
                    interrupted = true
                    #expect(process.terminationStatus == 128 + signal, "\(message)")
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
        func run(_ arguments: [String], signalAfter seconds: Double? = nil) throws -> (Process, String) {
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = arguments + ["--log-level", "error"]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            if let seconds {
                usleep(useconds_t(seconds * 1_000_000))
                kill(process.processIdentifier, SIGTERM)
            }
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process, message)
        }
        let data = dir.appendingPathComponent("ml-100k").path
        _ = try run(["data", "prepare", "--dataset", "ml-100k", "--out", data, "--max-train", "256"])
        for attempt in 0..<6 {
            // Far more steps than the wait: the workers are inside the products when it lands.
            let (process, message) = try run(["bench", "train", "--data", data, "--steps", "1000"], signalAfter: 3 + 0.4 * Double(attempt))
            #expect(process.terminationReason == .exit && process.terminationStatus == 128 + SIGTERM, "\(message)")
            #expect(!message.contains("crashed"), "\(message)")
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
        func study() throws -> (Process, Pipe, Pipe) {
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = ["study", "run", plan.path, "--out", dir.path, "--log-level", "error"]
            let (output, errors) = (Pipe(), Pipe())
            (process.standardOutput, process.standardError) = (output, errors)
            try process.run()
            return (process, output, errors)
        }
        let (first, _, firstErrors) = try study()
        // Once two steps are logged, well before the only planned checkpoint (step 40).
        while first.isRunning, ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").count < 2 { usleep(50_000) }
        kill(first.processIdentifier, SIGINT)
        let message = String(decoding: firstErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        first.waitUntilExit()
        #expect(first.terminationStatus == 130, "\(message)")
        #expect(message.contains("stopping at the next safe point") && message.contains("run the same command to continue"), "\(message)")
        struct Clock: Decodable { var step: Int }
        let clock = try JSONDecoder().decode(Clock.self, from: Data(contentsOf: dir.appendingPathComponent("runs/ce/study-clock.json")))
        #expect(clock.step >= 1 && clock.step < 40, "checkpoint at step \(clock.step)")
        let (second, secondOutput, _) = try study()
        let printed = String(decoding: secondOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0 && printed.contains("resuming at step \(clock.step)"), "\(printed)")
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
        func llmrec(_ arguments: [String], interruptAfterLogLines lines: Int? = nil) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = arguments + ["--log-level", "error"]
            let errors = Pipe()
            (process.standardOutput, process.standardError) = (FileHandle.nullDevice, errors)
            try process.run()
            if let lines {
                let log = dir.appendingPathComponent("run/log.jsonl")
                while process.isRunning, ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").count < lines { usleep(50_000) }
                kill(process.processIdentifier, SIGINT)
            }
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, message)
        }
        let data = dir.appendingPathComponent("data").path, run = dir.appendingPathComponent("run").path
        _ = try llmrec(["data", "prepare", "--dataset", "ml-100k", "--out", data, "--max-train", "64"])
        let train = ["train", "--model", "smollm2", "--data", data, "--out", run, "--lora-rank", "4", "--batch", "2", "--max-steps", "30",
                     "--eval-every", "1000", "--valid-samples", "2"]
        let (status, message) = try llmrec(train, interruptAfterLogLines: 2)
        #expect(status == 130 && message.contains("training stopped after step") && message.contains("--resume continues"), "\(message)")
        struct State: Decodable { var step: Int }
        let stopped = try JSONDecoder().decode(State.self, from: Data(contentsOf: dir.appendingPathComponent("run/checkpoint-latest/state.json"))).step
        #expect(stopped >= 1 && stopped < 30, "checkpoint at step \(stopped)")
        let (resumed, resumeMessage) = try llmrec(train + ["--resume"])
        #expect(resumed == 0, "\(resumeMessage)")
        let steps = try String(contentsOf: dir.appendingPathComponent("run/log.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["valid_loss"] == nil }.compactMap { $0["step"] as? Int }
        #expect(steps == Array(1...30), "each step logged once: \(steps)")
    }
}
