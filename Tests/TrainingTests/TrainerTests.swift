// The training loop on the tiny Llama and the fixture dataset: losses fall, a killed run
// resumes to exactly the weights of an uninterrupted one, and bad resumes are refused.
import CatalogIndex
import CausalLM
import Foundation
import RecData
import Testing
import Tokenizers
@testable import Training

struct SimulatedKill: Error {}

@Suite("Trainer", .serialized)
struct TrainerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// A prepared copy of the MovieLens-1M-format fixture (4 titles, 5 train samples).
    static let dataset: URL = {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-trainer-data-\(UUID().uuidString.prefix(8))")
        let source = try! DataSource.resolve(dataset: fixtures.appendingPathComponent("RecDataTests/Fixtures/ml-1m").path, items: nil, format: .auto)
        _ = try! DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
        return out
    }()

    func makeTrainer(_ runDir: URL, _ p: TrainingParameters, resume: Bool, maxValid: Int = 10) throws -> Trainer {
        let (model, tokenizer) = try ModelSource.resolve(tinyLlama.path).load()
        let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: DatasetReader.open(Self.dataset), tokenizer: tokenizer), maxValid: maxValid)
        let run = RunDirectory(runDir)
        try run.prepare(RunConfig(parameters: p, model: tinyLlama.path, modelFingerprint: "m", data: Self.dataset.path, dataFingerprint: "d"), resume: resume)
        return try Trainer(model: model, corpus: corpus, parameters: p, run: run)
    }

    /// Sample files published without a validation split (the BIGRec fixture: 3 training
    /// samples once the untitled are dropped): training validates on the last of them, leaves it
    /// out of training, and says so.
    @Test func withoutAValidationSplitTheLastTrainingSamplesValidate() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-novalid-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        let base = Self.fixtures.appendingPathComponent("RecDataTests/Fixtures/bigrec").path
        let source = try DataSource.sampleFiles(.bigrec, splits: SplitFiles(train: base + "/train.csv", valid: nil, test: base + "/test.csv"),
                                                items: base + "/id2name.json")
        var options = BuildOptions()
        options.dropUntitled = true
        _ = try DatasetPreparation.run(source: source, options: options, out: out, replace: false)
        let tokenizer = try ModelSource.resolve(tinyLlama.path).loadTokenizer()
        let dataset = try DatasetReader.open(out)
        let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: dataset, tokenizer: tokenizer), maxValid: 200)
        let train = try DatasetReader.samples(.train, of: dataset)
        #expect(corpus.train.map(\.item) == train.prefix(2).map(\.target))
        #expect(corpus.valid.map(\.item) == [train[2].target] && corpus.valid.map(\.history) == [train[2].history])
        #expect(corpus.validationSource == "the dataset has no validation split: validating on the last 1 training samples (3–3 of 3), left out of training")
        // With a validation split nothing is taken from training.
        let withValid = try TrainingCorpus(catalog: TokenizedCatalog(dataset: DatasetReader.open(Self.dataset), tokenizer: tokenizer), maxValid: 10)
        #expect(withValid.validationSource == nil)
    }

    var params: TrainingParameters {
        var p = TrainingParameters()
        p.loss = .mslIGD
        p.ats = true
        p.batch = 2
        p.epochs = 4
        p.learningRate = 3e-3
        p.warmup = 2
        p.evalEvery = 2
        return p
    }

    func scratch() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-run-\(UUID().uuidString.prefix(8))") }

    @Test func resumeAfterAKillGivesTheSameWeights() throws {
        // Uninterrupted.
        let a = scratch()
        let full = try makeTrainer(a, params, resume: false)
        var losses: [Double] = []
        try full.train(resume: false) { if case .step(_, _, let loss, _, _, _, _) = $0 { losses.append(loss) } }
        #expect(full.totalSteps == 12)
        #expect(losses.count == 12 && losses.last! < losses.first!, "\(losses)")
        // Killed one step after the checkpoint at step 4, then resumed from it.
        let b = scratch()
        let first = try makeTrainer(b, params, resume: false)
        #expect(throws: SimulatedKill.self) {
            try first.train(resume: false) { if case .step(5, _, _, _, _, _, _) = $0 { throw SimulatedKill() } }
        }
        // Killed again between the two renames of a checkpoint commit: the old checkpoint is
        // aside and a partial new one lies beside it. Resume puts the old one back and tidies.
        let fm = FileManager.default
        try fm.moveItem(at: b.appendingPathComponent("checkpoint-latest"), to: b.appendingPathComponent(".checkpoint-latest.old-7"))
        try fm.createDirectory(at: b.appendingPathComponent(".checkpoint-latest.tmp-9"), withIntermediateDirectories: true)
        let second = try makeTrainer(b, params, resume: true)
        try second.train(resume: true) { _ in }
        #expect(try fm.contentsOfDirectory(atPath: b.path).filter { $0.hasPrefix(".") }.isEmpty)
        // Steps 5 was logged before the kill and again after the resume: the log holds it once.
        let steps = try String(contentsOf: b.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["valid_loss"] == nil }.compactMap { $0["step"] as? Int }
        #expect(steps == Array(1...12), "\(steps)")
        let n = full.model.layout.count
        let same = (0..<n).allSatisfy { full.model.parameters.data[$0] == second.model.parameters.data[$0] }
        #expect(same, "resumed weights differ from the uninterrupted run")
        let log = try String(contentsOf: b.appendingPathComponent("log.jsonl"), encoding: .utf8)
        #expect(log.contains("\"valid_loss\""))
        #expect(FileManager.default.fileExists(atPath: b.appendingPathComponent("checkpoint-best/model.bin").path))
    }

    /// A stop asked for between checkpoints (Ctrl-C, a sitting's end) saves checkpoint-latest at
    /// that step; the resume repeats no step and ends with the uninterrupted run's weights.
    @Test func aRequestedStopSavesItsStepAndResumesExactly() throws {
        let a = scratch(), b = scratch()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let full = try makeTrainer(a, params, resume: false)
        try full.train(resume: false) { _ in }
        let first = try makeTrainer(b, params, resume: false)
        var stepsDone = 0
        first.stopRequested = { stepsDone == 5 }  // step 5: between the checkpoints at 4 and 6
        var checkpoints: [Int] = []
        #expect {
            try first.train(resume: false) { event in
                if case .step(let step, _, _, _, _, _, _) = event { stepsDone = step }
                if case .checkpoint(let step) = event { checkpoints.append(step) }
            }
        } throws: { ($0 as? TrainingStopped)?.step == 5 }
        #expect(checkpoints == [2, 4, 5])
        #expect(try RunDirectory(b).loadState(from: RunDirectory(b).latest).step == 5)
        let second = try makeTrainer(b, params, resume: true)
        var resumedSteps: [Int] = []
        try second.train(resume: true) { if case .step(let step, _, _, _, _, _, _) = $0 { resumedSteps.append(step) } }
        #expect(resumedSteps == Array(6...12))
        let n = full.model.layout.count
        #expect((0..<n).allSatisfy { full.model.parameters.data[$0] == second.model.parameters.data[$0] }, "resumed weights differ")
    }

    @Test func badStartsAndResumesAreRefused() throws {
        let dir = scratch()
        let t = try makeTrainer(dir, params, resume: false)
        #expect { try t.run.prepare(RunConfig(parameters: params, model: "m", modelFingerprint: "m", data: "d", dataFingerprint: "d"), resume: false) }
            throws: { "\($0)".contains("already holds a run") }
        #expect { try makeTrainer(dir, params, resume: true) } throws: { "\($0)".contains("no checkpoint-latest") }
        try t.train(resume: false) { _ in }
        var other = params
        other.learningRate = 1e-2
        #expect { try makeTrainer(dir, other, resume: true) } throws: { "\($0)".contains("learningRate") }
    }

    @Test func nonFiniteLossStopsWithTheStep() throws {
        var p = params
        p.learningRate = 1e30  // diverges at once
        p.evalEvery = 0
        p.ats = false
        p.loss = .ce
        let t = try makeTrainer(scratch(), p, resume: false)
        #expect { try t.train(resume: false) { _ in } } throws: { "\($0)".contains("is not finite") && "\($0)".contains("step ") }
    }

    @Test func loraRunTrainsOnlyTheAdaptersAndResumesExactly() throws {
        var p = params
        p.lora = LoRASettings(rank: 4, alpha: 8, dropout: 0.1, targets: [.qProj, .vProj, .downProj])
        p.learningRate = 1e-2
        let a = scratch()
        let full = try makeTrainer(a, p, resume: false)
        var losses: [Double] = []
        try full.train(resume: false) { if case .step(_, _, let loss, _, _, _, _) = $0 { losses.append(loss) } }
        #expect(losses.last! < losses.first!, "\(losses)")
        let adapter = try #require(full.adapter)
        // The base is frozen: its weights are those of the file.
        let (base, _) = try ModelSource.resolve(tinyLlama.path).load()
        #expect(memcmp(base.parameters.data, full.model.parameters.data, base.layout.count * 4) == 0, "base weights changed")
        #expect(FileManager.default.fileExists(atPath: a.appendingPathComponent("checkpoint-best/adapter.bin").path))
        #expect(!FileManager.default.fileExists(atPath: a.appendingPathComponent("checkpoint-best/model.bin").path))

        let b = scratch()
        let first = try makeTrainer(b, p, resume: false)
        #expect(throws: SimulatedKill.self) {
            try first.train(resume: false) { if case .step(7, _, _, _, _, _, _) = $0 { throw SimulatedKill() } }
        }
        let second = try makeTrainer(b, p, resume: true)
        try second.train(resume: true) { _ in }
        let resumed = try #require(second.adapter)
        #expect(memcmp(adapter.parameters.data, resumed.parameters.data, adapter.parameters.count * 4) == 0,
                "resumed adapters differ from the uninterrupted run")
    }

    @Test func gradientCheckpointingGivesTheSameRun() throws {
        var p = params
        p.maxSteps = 3
        var weights: [[Float]] = []
        for recompute in [false, true] {
            let (model, tokenizer) = try ModelSource.resolve(tinyLlama.path).load()
            let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: DatasetReader.open(Self.dataset), tokenizer: tokenizer), maxValid: 10)
            let run = RunDirectory(scratch())
            try run.prepare(RunConfig(parameters: p, model: "m", modelFingerprint: "m", data: "d", dataFingerprint: "d"), resume: false)
            let t = try Trainer(model: model, corpus: corpus, parameters: p, run: run, recomputeActivations: recompute)
            try t.train(resume: false) { _ in }
            weights.append(Array(UnsafeBufferPointer(start: model.parameters.data, count: model.layout.count)))
        }
        #expect(weights[0] == weights[1])
    }

    @Test func dataThatCannotTrainIsRefusedBeforeAnythingIsWritten() throws {
        var p = params
        p.batch = 3
        p.gradAccum = 2  // 6 samples a step; the fixture has 5
        #expect { try makeTrainer(scratch(), p, resume: false) } throws: { "\($0)".contains("the train split holds 5") }
        #expect { try makeTrainer(scratch(), params, resume: false, maxValid: 0) } throws: { "\($0)".contains("the valid split is empty") }
        p = params
        p.lora = LoRASettings(rank: 0)
        #expect { try makeTrainer(scratch(), p, resume: false) } throws: { "\($0)".contains("rank must be at least 1") }
    }

    @Test func theBestCheckpointRecordsItsOwnStep() throws {
        // Validation every 2 steps; the loss falls, so each validation writes a new best.
        var p = params
        p.epochs = 2
        let dir = scratch()
        let trainer = try makeTrainer(dir, p, resume: false)
        try trainer.train(resume: false) { _ in }
        let best = try trainer.run.loadState(from: trainer.run.best)
        #expect(best.bestStep != nil && best.step == best.bestStep, "best checkpoint state: step \(best.step), best step \(String(describing: best.bestStep))")
    }

    @Test func aDamagedCheckpointStateIsReportedNamingItsFile() throws {
        var p = params
        p.epochs = 2
        let dir = scratch()
        let trainer = try makeTrainer(dir, p, resume: false)
        try trainer.train(resume: false) { _ in }
        let file = trainer.run.latest.appendingPathComponent("state.json")
        for (bad, expected) in [(#"{"step": -5, "tau": 1.5}"#, "a step in 0...6, found -5"), (#"{"step": 99, "tau": 1.5}"#, "a step in 0...6, found 99"),
                                (#"{"step": 2, "tau": 1.5, "bestStep": 4}"#, "a best step in 0...2, found 4"), ("not json", "the loop state as JSON")] {
            try Data(bad.utf8).write(to: file)
            let resumed = try makeTrainer(dir, p, resume: true)
            #expect { try resumed.train(resume: true) { _ in } } throws: { error in
                "\(error)".contains(file.path) && "\(error)".contains(expected) && "\(error)".contains("damaged")
            }
        }
    }
}
