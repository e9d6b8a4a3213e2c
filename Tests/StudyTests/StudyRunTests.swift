// A tiny study end to end on the real SmolLM2 and MovieLens-100K: the power check grows the
// training windows, a kill in training and one in evaluation are resumed, a finished study is
// skipped, the resumed arm equals the same arm run in one go, a changed arm is refused, and the
// report is byte-identical when made again, with well-formed SVG figures.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Decoding
import Support
import Testing
import Training
@testable import Study

@Suite("A tiny study on MovieLens-100K", .serialized,
       .enabled(if: Assets.smollm2.isPresent && Assets.ml100k.isPresent, "needs SmolLM2 and MovieLens-100K; run scripts/fetch-assets.sh"))
struct StudyRunTests {
    static func planText(arms: String, baseline: String, powerCheck: Bool, train: Int = 8) -> String {
        """
        {
          "name": "tiny",
          "model": "smollm2",
          "dataset": {"source": "ml-100k", "history": 5},
          "samples": {"seed": 11, "train": \(train), "valid": 4, "test": 20},
          \(powerCheck ? #""power_check": {"against": "popularity", "metric": "ndcg@10", "train": [12]},"# : "")
          "training": {"loss": "ce", "lr": 1e-3, "warmup": 1, "batch": 2, "max_steps": 3, "eval_every": 2, "seed": 1, "lora_rank": 4},
          "evaluation": {"beams": 5, "batch": 10},
          "decoders": [{"name": "plain"}, {"name": "igd-decoding", "igd_alpha": 0.2, "samples": 10}],
          "arms": [\(arms)],
          "baseline": "\(baseline)",
          "floors": {"popularity": true}
        }
        """
    }
    static let ce = #"{"name": "ce", "decoders": ["plain"]}"#
    static let igd = #"{"name": "igd", "loss": "igd", "beta": 0.1, "decoders": ["plain", "igd-decoding"]}"#

    /// Runs `text` as a plan in `dir`, stopping where `stop` says; returns what it printed.
    @discardableResult
    func run(_ text: String, in dir: URL, compute: StudyCompute = .cpu, only: [String] = [],
             stop: @escaping (StudyPoint) -> Bool = { _ in false }) throws -> [String] {
        let url = dir.appendingPathComponent("input-plan.json")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        var lines: [String] = []
        let runner = try StudyRunner(plan: PlanReader.read(url), files: StudyFiles(directory: dir), compute: compute) { lines.append($0) }
        runner.stopWhen = stop
        try runner.restrict(to: only)
        try runner.run(planText: Data(text.utf8))
        return lines
    }

    func contents(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: dir.path).sorted() {
            let url = dir.appendingPathComponent(path)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue { out[path] = try Data(contentsOf: url) }
        }
        return out
    }

    /// --restart removes nothing until every name is known and the directory holds this study,
    /// and a dry run removes nothing at all (it says what it would remove).
    @Test func restartRemovesOnlyWhatARealRunOfThisStudyMay() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("llmrec-restart-\(UUID().uuidString.prefix(8))")
        defer { try? fm.removeItem(at: dir) }
        let text = Self.planText(arms: Self.ce, baseline: "ce", powerCheck: false)
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("input-plan.json")
        try Data(text.utf8).write(to: url)
        let files = StudyFiles(directory: dir)
        let kept = files.arm("ce").appendingPathComponent("mine.txt")
        try fm.createDirectory(at: files.arm("ce"), withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: kept)
        func runner(_ lines: @escaping (String) -> Void = { _ in }) throws -> StudyRunner {
            try StudyRunner(plan: PlanReader.read(url), files: files, compute: .cpu, say: lines)
        }
        // An unknown name stops before anything is removed, the known one included.
        #expect(throws: StudyError.self) { try runner().restart(["ce", "cee"]) }
        #expect(fm.fileExists(atPath: kept.path))
        // A dry run says what it would remove and removes nothing.
        var lines: [String] = []
        let dry = try runner { lines.append($0) }
        try dry.restart(["ce"], dryRun: true)
        try dry.summary(planText: Data(text.utf8))
        #expect(fm.fileExists(atPath: kept.path))
        #expect(lines.contains("restart: would remove the results and run of 'ce' (dry run: nothing removed)"))
        // A directory holding another study is refused before the restart removes anything.
        let other = Self.planText(arms: Self.ce, baseline: "ce", powerCheck: false).replacingOccurrences(of: #""seed": 11"#, with: #""seed": 12"#)
        try Data(other.utf8).write(to: url)
        let wrong = try runner()
        try wrong.restart(["ce"])
        #expect(throws: StudyError.self) { try wrong.summary(planText: Data(other.utf8)) }
        #expect(fm.fileExists(atPath: kept.path))
    }

    @Test func interruptedStudyResumesSkipsFinishedArmsAndReportsTheSameBytes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-study-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("a")
        let files = StudyFiles(directory: dir)
        let plan = Self.planText(arms: "\(Self.ce), \(Self.igd)", baseline: "ce", powerCheck: true)

        // 1. Killed in igd's training, after its checkpoint at step 2.
        #expect(throws: StudyInterrupted.self) { try run(plan, in: dir) { $0 == .trainingStep(arm: "igd", step: 3) } }
        // The power check ran first: ce on 8 windows cannot beat popularity on 20 test windows
        // with an interval above 0, so ce trained again on 12, the last planned size.
        let check = try StudyJSON.read(PowerCheckRecord.self, from: files.powerCheck)
        #expect(check.attempts.map(\.trainWindows) == [8, 12] && check.chosenTrainWindows == 12)
        #expect(files.exists(files.arm("power-check").appendingPathComponent("ce-train8/plain.tsv")))
        #expect(try StudyJSON.read(TrainingRecord.self, from: files.training("ce")).trainWindows == 12)
        #expect(files.exists(files.metrics("ce", "plain")) && files.exists(files.metrics("popularity", ExternalResults.decoder)))
        #expect(!files.exists(files.training("igd")) && files.exists(files.run("igd").appendingPathComponent("checkpoint-latest")))

        // 2. Resumed, then killed in igd's plain evaluation after its first batch (10 of 20 windows).
        #expect(throws: StudyInterrupted.self) {
            let lines = try run(plan, in: dir) { $0 == .evaluationBatch(arm: "igd", decoder: "plain", done: 10) }
            #expect(lines.contains { $0.contains("[igd] training:") && $0.contains("resuming at step 2") })
        }
        let trained = try StudyJSON.read(TrainingRecord.self, from: files.training("igd"))
        #expect(trained.sittings == 2 && trained.steps == 3)
        #expect(RankedSample.readPartial(files.partial("igd", "plain")).count == 10)

        // 3. Finished.
        let finishing = try run(plan, in: dir)
        #expect(finishing.contains { $0.contains("[igd] evaluating with plain") && $0.contains("resuming after 10") })
        // The summary counts the 10 windows already decoded: 10 of plain's 20 and igd-decoding's 10 are left.
        #expect(finishing.contains { $0.contains(" igd ") && $0.contains("trained; 20 windows to decode") }, "\(finishing)")
        #expect(finishing.contains { $0.contains("[ce] done") })
        #expect(!files.exists(files.partial("igd", "plain")))
        let results = try contents(files.results)

        // 4. Run again: nothing is trained or decoded, no result changes.
        let again = try run(plan, in: dir)
        #expect(!again.contains { $0.contains("training:") || $0.contains("evaluating") })
        #expect(try contents(files.results) == results)
        // A finished arm needs no weights: without its run (results made on another machine) it is still done.
        try FileManager.default.removeItem(at: files.run("igd"))
        let withoutWeights = try run(plan, in: dir)
        #expect(withoutWeights.contains { $0.contains("[igd] done") } && !files.exists(files.run("igd")))
        #expect(try contents(files.results) == results)
        // But a decoder added to it cannot run without the weights: named by --arm, refused, not
        // retrained; in a run of the whole plan, left with the reason while the other arms go on.
        let moreDecoders = plan
            .replacingOccurrences(of: #"{"name": "igd-decoding", "igd_alpha": 0.2, "samples": 10}]"#,
                                  with: #"{"name": "igd-decoding", "igd_alpha": 0.2, "samples": 10}, {"name": "masked", "mask_softmax": true, "samples": 10}]"#)
            .replacingOccurrences(of: #""decoders": ["plain", "igd-decoding"]"#, with: #""decoders": ["plain", "igd-decoding", "masked"]"#)
        do {
            try run(moreDecoders, in: dir, only: ["igd"])
            Issue.record("an arm without its weights was evaluated or retrained")
        } catch let e as StudyError {
            #expect("\(e)".contains("[igd] has results but no weights") && "\(e)".contains("masked cannot be decoded here") && "\(e)".contains("--restart igd"))
        }
        let wholePlan = try run(moreDecoders, in: dir)
        #expect(wholePlan.contains { $0.hasPrefix("  igd ") && $0.hasSuffix("trained, 10 windows to decode, no weights here (--restart igd redoes it)") })
        #expect(wholePlan.contains { $0.contains("[igd] has results but no weights") && $0.hasSuffix("; the other arms go on") })
        #expect(wholePlan.last!.hasPrefix("this device's part of the study is complete but for igd (no weights here: retrain it with --restart igd)"))
        let afterRefusal = try contents(files.results).filter { !$0.key.hasPrefix("igd/masked") }
        #expect(!files.exists(files.run("igd")) && afterRefusal == results)

        // 5. The resumed arm equals the same arm trained and evaluated in one go.
        let single = root.appendingPathComponent("b")
        try run(Self.planText(arms: Self.igd, baseline: "igd", powerCheck: false, train: 12), in: single)
        let singleFiles = StudyFiles(directory: single)
        for decoder in ["plain", "igd-decoding"] {
            #expect(try RankedSample.read(singleFiles.rankings("igd", decoder)) == RankedSample.read(files.rankings("igd", decoder)))
        }
        let losses = { (f: StudyFiles) in try RunLog.read(f.log("igd")).map { [$0.value("loss"), $0.value("valid_loss")] } }
        #expect(try losses(singleFiles) == losses(files))

        // 5b. The same arm through a compute handed to the runner (as `--device cuda` hands the GPU's):
        // its engine trains and its passes decode (here the CPU's, so the training is the same bits),
        // and the records and the report name the device.
        let engines = Counter(), passes = Counter()
        let compute = StudyCompute(
            device: "test device", kind: .cuda,
            engine: { model, parameters, adapter in
                engines.add()
                return CPUTrainingEngine(model: model, adapter: adapter, recompute: false, precision: parameters.precision ?? .fp32,
                                         adamW: AdamWSettings(weightDecay: parameters.weightDecay))
            },
            passes: { model, precision in
                passes.add()
                return CPUBeamPasses(model: model, precision: precision)
            })
        let device = root.appendingPathComponent("device")
        try run(Self.planText(arms: Self.igd, baseline: "igd", powerCheck: false, train: 12), in: device, compute: compute)
        let deviceFiles = StudyFiles(directory: device)
        #expect(engines.count == 1 && passes.count == 1)
        #expect(try losses(deviceFiles) == losses(singleFiles))
        #expect(try StudyJSON.read(TrainingRecord.self, from: deviceFiles.training("igd")).device == "test device")
        #expect(try StudyJSON.read(DecoderRecord.self, from: deviceFiles.metrics("igd", "plain")).device == "test device")
        #expect(try StudyJSON.read(DecoderRecord.self, from: singleFiles.metrics("igd", "plain")).device == nil)
        let deviceReport = try StudyReport.write(directory: device, to: root.appendingPathComponent("device-report/REPORT.md"))
        #expect(try String(contentsOf: deviceReport.markdown, encoding: .utf8).contains(" on test device |"))

        // 5c. An arm the plan pins to a GPU waits in a CPU run, and the summary leaves it out of the
        // hours left; a GPU run trains and evaluates it (here through the CPU's engine, so it is
        // the same bits as its unpinned twin).
        let pinnedArm = #"{"name": "ce-gpu", "decoders": ["plain"], "device": "cuda"}"#
        let pinned = Self.planText(arms: "\(Self.ce), \(Self.igd), \(pinnedArm)", baseline: "ce", powerCheck: true)
        let waiting = try run(pinned, in: dir)
        #expect(waiting.contains { $0.contains("ce-gpu") && $0.contains("to do by a run with --device cuda") })
        #expect(waiting.contains { $0.contains("[ce-gpu] waits for a run with --device cuda") })
        #expect(waiting.contains { $0.contains("besides ce-gpu (--device cuda)") })
        #expect(waiting.last!.hasPrefix("this device's part of the study is complete but for ce-gpu (waiting for another device: --device cuda)"))
        #expect(!files.exists(files.run("ce-gpu")) && !files.exists(files.arm("ce-gpu")))
        try run(pinned, in: dir, compute: compute)
        #expect(try StudyJSON.read(TrainingRecord.self, from: files.training("ce-gpu")).device == "test device")
        let armLosses = { (arm: String) in try RunLog.read(files.log(arm)).map { [$0.value("loss"), $0.value("valid_loss")] } }
        #expect(try armLosses("ce-gpu") == armLosses("ce"))
        #expect(try RankedSample.read(files.rankings("ce-gpu", "plain")) == RankedSample.read(files.rankings("ce", "plain")))
        let afterwards = try run(pinned, in: dir)
        #expect(afterwards.contains("[ce-gpu] done (results in \(files.arm("ce-gpu").path))") && afterwards.last!.hasPrefix("study complete"))
        // --arm keeps a run to the arms it names (the baseline still comes first).
        let chosen = try run(pinned, in: dir, only: ["igd"])
        #expect(chosen.contains("[ce] done (results in \(files.arm("ce").path))") && chosen.contains("[igd] done (results in \(files.arm("igd").path))"))
        #expect(chosen.contains("[ce-gpu] left for another run (not named by --arm)") && chosen.last!.hasPrefix("the arms named by --arm are done"))
        #expect(throws: StudyError.self) { try run(pinned, in: dir, only: ["msl"]) }

        // 6. A plan that changes a finished arm is refused before anything runs, naming the arm and
        // the setting, and the directory keeps its plan.
        let planCopy = try Data(contentsOf: files.plan)
        do {
            try run(pinned.replacingOccurrences(of: #""beta": 0.1"#, with: #""beta": 0.2"#), in: dir)
            Issue.record("a changed arm was accepted")
        } catch let e as StudyError {
            #expect("\(e)".contains("arm 'igd'") && "\(e)".contains("training.beta: results have 0.1, the plan has 0.2"))
        }
        #expect(try Data(contentsOf: files.plan) == planCopy)

        // 7. The report is the same bytes when made again, and its figures are well-formed XML.
        let first = try StudyReport.write(directory: dir, to: root.appendingPathComponent("report/REPORT.md"))
        let bytes = try contents(root.appendingPathComponent("report"))
        _ = try StudyReport.write(directory: dir, to: root.appendingPathComponent("report/REPORT.md"))
        #expect(try contents(root.appendingPathComponent("report")) == bytes)
        #expect(first.figures.count >= 4)
        let markdown = try String(contentsOf: first.markdown, encoding: .utf8)
        #expect(markdown.contains("| igd · plain | 20 |") && markdown.contains("| popularity | 20 |"))
        // A decoder against the same arm's first decoder, on the windows both ran.
        #expect(markdown.contains("| igd · igd-decoding | igd · plain | 10 |"))
        // The backend check reads the pinned twin (here the same bits as ce, so no difference).
        #expect(markdown.contains("ce-gpu − ce (plain, 20 windows)") && markdown.contains("difference +0.0000 [+0.0000, +0.0000]"))
        #expect(markdown.contains("**the device does not change the result here**") && markdown.contains("Arms trained on a GPU: ce-gpu (test device)"))
        for figure in first.figures {
            let parser = XMLParser(data: try Data(contentsOf: figure))
            #expect(parser.parse(), "\(figure.lastPathComponent): \(parser.parserError.map { "\($0)" } ?? "")")
            #expect(markdown.contains("REPORT-figures/\(figure.lastPathComponent)"))
        }
    }
}

/// Counts calls from the study's factories (which may run on any thread).
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}
