// One arm of a study: its settings checked against any results already on disk, its training
// (fresh, resumed from checkpoint-latest, or skipped when finished), then its decoders.
import CausalLM
import Foundation
import Support
import Training

extension StudyRunner {
    /// Trains the arm (unless done) and evaluates it with `decoders` (default: all of its own).
    func runArm(_ arm: ArmSpec, trainWindows: Int, decoders: [String]? = nil) throws {
        let record = armRecord(arm, trainWindows: trainWindows)
        try claimArm(record)
        let pending = try pendingDecoders(arm, decoders)
        let trained = files.exists(files.training(arm.name))
        // A finished arm needs no weights here (its results may have been made on another machine).
        if trained && pending.isEmpty {
            say("[\(arm.name)] done (results in \(files.arm(arm.name).path))")
            return
        }
        if let stranded = stranded(arm, pending: pending) { throw StudyError.missing(stranded) }
        // A checkpoint without training.json is a training under way: it resumes.
        if !trained { try train(arm, record) }
        guard !pending.isEmpty else { return }
        let model = try ModelOrRun.load(run: files.run(arm.name), checkpoint: .latest).model
        try evaluate(arm.name, model: model, decoders: pending, precision: arm.training.precision ?? .fp32, format: arm.training.format)
    }

    /// The decoders named (default: the arm's own) that have no finished result yet.
    func pendingDecoders(_ arm: ArmSpec, _ names: [String]? = nil) throws -> [DecoderSpec] {
        try (names ?? arm.decoders).compactMap { plan.decoder($0) }.filter { try !isEvaluated(arm.name, $0) }
    }

    /// Whether the arm finished its training but its weights are not here (another machine
    /// trained it, or its run was removed).
    func weightsGone(_ name: String) -> Bool {
        files.exists(files.training(name)) && !files.exists(RunDirectory(files.run(name)).latest)
    }

    /// Why the arm cannot go on here, when its weights are gone and `pending` decoders are left:
    /// retraining would replace the training its finished evaluations came from, so only
    /// `--restart` may.
    func stranded(_ arm: ArmSpec, pending: [DecoderSpec]) -> String? {
        guard !pending.isEmpty, weightsGone(arm.name) else { return nil }
        let device = (try? StudyJSON.read(TrainingRecord.self, from: files.training(arm.name)))?.device
        return "[\(arm.name)] has results but no weights in \(files.run(arm.name).path) "
            + "(\(device.map { "trained on \($0)" } ?? "trained on another machine, or its run was removed")), so "
            + "\(pending.map(\.name).joined(separator: ", ")) cannot be decoded here; finish it where it was trained, or retrain it "
            + "with --restart \(arm.name)"
    }

    /// What arm.json stores for `arm` trained on `trainWindows` windows.
    func armRecord(_ arm: ArmSpec, trainWindows: Int) -> ArmRecord {
        // A sequence arm trains on every window's target, whatever the draw.
        ArmRecord(name: arm.name, training: armParameters(arm), trainWindows: arm.training.format == .sequences ? context.train.count : trainWindows,
                  validWindows: context.draw.valid.count,
                  modelFingerprint: fingerprint(source.path), kind: nil)
    }

    func armParameters(_ arm: ArmSpec) -> TrainingParameters {
        var p = arm.training
        p.validSamples = context.draw.valid.count
        return p
    }

    /// Refuses, before anything runs, a plan that changes the settings of an arm with results
    /// (the training windows are the power check's, so they are taken as stored).
    func checkStoredArms() throws {
        // An arm a dry run would restart keeps its old settings until a real run removes them.
        for arm in plan.arms where files.exists(files.armSettings(arm.name)) && !(dryRun && restarting.contains(arm.name)) {
            let stored = try StudyJSON.read(ArmRecord.self, from: files.armSettings(arm.name))
            try claimArm(armRecord(arm, trainWindows: stored.trainWindows))
        }
    }

    /// Writes arm.json, or checks that the stored one has the same settings.
    func claimArm(_ record: ArmRecord) throws {
        let url = files.armSettings(record.name)
        guard files.exists(url) else {
            try StudyJSON.write(record, to: url)
            return
        }
        let stored = try StudyJSON.read(ArmRecord.self, from: url)
        if stored != record {
            throw StudyError.changedArm(arm: record.name, directory: files.arm(record.name).path,
                                        differences: settingDifferences(stored, record))
        }
    }

    /// "training.learning_rate: 0.0001 → 0.0002" for every setting that differs.
    func settingDifferences<T: Encodable>(_ a: T, _ b: T) -> [String] {
        settingChanges(a, b, encode: StudyJSON.encode).map { "\($0.key): results have \($0.before), the plan has \($0.after)" }
    }

    /// Trains the arm into RUNS/ARM, resuming from its latest checkpoint when there is one for
    /// these settings; then copies its log and writes training.json.
    func train(_ arm: ArmSpec, _ record: ArmRecord) throws {
        let runDir = RunDirectory(files.run(arm.name))
        let parameters = record.training
        let config = RunConfig(parameters: parameters, model: source.path, modelFingerprint: record.modelFingerprint,
                               data: files.data.path,
                               dataFingerprint: fingerprint(files.data.appendingPathComponent("dataset.json").path)
                                   + "-draw\(context.draw.seed)-train\(record.trainWindows)-valid\(record.validWindows)")
        let fm = FileManager.default
        runDir.recoverInterruptedCheckpoints()
        let resume = fm.fileExists(atPath: runDir.latest.path) && (try? runDir.readConfig()) == config
        if !resume, fm.fileExists(atPath: runDir.url.path) {
            // A run that never reached a checkpoint, or one for other settings: start again.
            try fm.removeItem(at: runDir.url)
        }
        let (model, _) = try source.load()
        let corpus = trainingCorpus(parameters, trainWindows: record.trainWindows)
        let trainer = try Trainer(model: model, corpus: corpus, parameters: parameters, run: runDir,
                                  engine: compute.engine.map { make in { adapter in try make(model, parameters, adapter) } })
        trainer.stopRequested = stopRequested
        try runDir.prepare(config, resume: resume)
        let clockURL = files.trainingClock(arm.name)
        var clock = resume ? (try? StudyJSON.read(TrainingClock.self, from: clockURL)) ?? TrainingClock() : TrainingClock()
        clock.sittings += 1
        let base = clock.seconds
        let start = Date()
        let total = trainer.totalSteps
        let firstStep = resume ? ((try? runDir.loadState(from: runDir.latest).step) ?? 0) : 0
        let rows = parameters.format == .windows ? "\(record.trainWindows) windows"
            : "\(record.trainWindows) targets in \(corpus.train.count) sequence chunks of at most \(parameters.chunkTokens) tokens (packed rows, no padding)"
        say("[\(arm.name)] training: \(parameters.loss.rawValue)\(describeLoss(parameters)), \(rows), \(total) steps of "
            + "\(parameters.batch * parameters.gradAccum)" + (parameters.trainTokens.map { " (\($0) tokens)" } ?? "")
            + (resume ? ", resuming at step \(firstStep)" : ""))
        let progress = PhaseProgress(label: "[\(arm.name)] train", total: total, done: firstStep, say: say)
        do {
            try trainer.train(resume: resume) { event in
                switch event {
                case .step(let step, _, let loss, _, let tau, let tps, _):
                    progress.update(step, detail: String(format: "loss %.4f, %.0f tokens/s", loss, tps) + (tau.map { String(format: ", τ %.3f", $0) } ?? ""))
                    if stopWhen(.trainingStep(arm: arm.name, step: step)) { throw StudyInterrupted(point: .trainingStep(arm: arm.name, step: step)) }
                case .validation(let step, let loss, _):
                    say(String(format: "[%@] step %d: valid loss %.4f", arm.name, step, loss))
                case .checkpoint(let step):
                    clock.seconds = base + Date().timeIntervalSince(start)
                    clock.step = step
                    try StudyJSON.write(clock, to: clockURL)
                case .skipped(let step, let reason):
                    say("[\(arm.name)] step \(step) skipped: \(reason)")
                }
            }
        } catch let stopped as TrainingStopped {
            say("[\(arm.name)] stopped after step \(stopped.step) of \(stopped.total), with a checkpoint there: the next run resumes at it")
            throw StudyInterrupted(point: .trainingStep(arm: arm.name, step: stopped.step))
        }
        let state = try runDir.loadState(from: runDir.latest)
        let log = try RunLog.read(runDir.url.appendingPathComponent("log.jsonl"))
        try RunLog.write(log, to: files.log(arm.name))
        let steps = log.filter { $0.kind == .step }
        let valids = log.filter { $0.kind == .validation }
        let training = TrainingRecord(
            steps: state.step, trainWindows: record.trainWindows, seconds: clock.seconds,
            meanTokensPerSecond: steps.isEmpty ? 0 : steps.reduce(0) { $0 + ($1.value("tokens_per_s") ?? 0) } / Double(steps.count),
            finalTrainLoss: steps.last?.value("loss") ?? .nan, finalValidLoss: valids.last?.value("valid_loss"),
            bestStep: state.bestStep, bestValidLoss: state.bestValidLoss, sittings: clock.sittings, device: compute.recorded)
        try StudyJSON.write(training, to: files.training(arm.name))
        say(String(format: "[%@] trained in %@ (%d sitting%@); final train loss %.4f", arm.name, formatDuration(clock.seconds),
                   clock.sittings, clock.sittings == 1 ? "" : "s", training.finalTrainLoss))
    }

    /// An arm's training examples: its drawn windows, or in the sequence format the whole training
    /// split chained per user (every window's target, each scored once per epoch).
    func trainingCorpus(_ p: TrainingParameters, trainWindows: Int) -> TrainingCorpus {
        switch p.format {
        case .windows:
            TrainingCorpus(catalog: context.catalog, train: context.trainSamples(trainWindows), valid: context.validSamples)
        case .sequences:
            TrainingCorpus(catalog: context.catalog, train: context.train, valid: context.validSamples, format: .sequences, maxTokens: p.chunkTokens)
        }
    }

    func atsPosition(_ p: TrainingParameters) -> String { p.atsMinValid.map { " (read at ≥ \($0) valid tokens)" } ?? "" }

    func describeLoss(_ p: TrainingParameters) -> String {
        switch p.loss {
        case .ce: ""
        case .igd: " β \(formatSetting(p.beta))"
        case .msl: p.ats ? " with ATS\(atsPosition(p))" : " τ \(formatSetting(p.tau))"
        case .mslIGD: (p.ats ? " with ATS\(atsPosition(p))" : " τ \(formatSetting(p.tau))") + ", β \(formatSetting(p.beta))"
        }
    }
}

/// Training seconds up to the last checkpoint, carried across sittings.
struct TrainingClock: Codable {
    var seconds = 0.0
    var step = 0
    var sittings = 0
}
