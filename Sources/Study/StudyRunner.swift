// `llmrec study run`: executes a plan arm by arm. The dataset is prepared once (all samples),
// the study draws its samples, the popularity floor is ranked, the baseline arm trains first
// and passes the pre-registered power check (or the training windows grow), then every other
// arm trains and is evaluated with its decoders on the same test windows, then the zero-shot
// floor. Finished parts are skipped, an interrupted training resumes from its latest
// checkpoint (bit-identical), an interrupted evaluation from its last whole batch.
import CausalLM
import Evaluation
import Foundation
import RecData
import Support
import Tokenizers
import Training

/// A place where a study can be stopped.
public enum StudyPoint: Sendable, Equatable {
    case trainingStep(arm: String, step: Int)
    case evaluationBatch(arm: String, decoder: String, done: Int)
}

/// Thrown when `stopWhen` or `stopRequested` asked to stop; everything written so far is whole.
public struct StudyInterrupted: Error, CustomStringConvertible {
    public var point: StudyPoint
    public var description: String { "study stopped at \(point), as asked" }
}

public final class StudyRunner {
    public let plan: StudyPlan
    public let files: StudyFiles
    /// Progress and summary lines (the CLI prints them).
    let say: (String) -> Void
    /// Asked at every training step and evaluation batch; true stops the study there as a kill
    /// would (tests interrupt a study this way).
    public var stopWhen: (StudyPoint) -> Bool = { _ in false }
    /// Asked at the same places; true stops gracefully: a training first saves checkpoint-latest
    /// at its step, so the next run repeats nothing (`study run` asks on the first SIGINT).
    public var stopRequested: () -> Bool = { false }

    let source: ModelSource
    var context: StudyContext!
    /// Where arms train and are evaluated (the CPU unless given a GPU's engine and passes).
    let compute: StudyCompute
    /// The arms (and the zero-shot floor) this run may work on; nil: all of them. The baseline
    /// and popularity run regardless when unfinished, since every other arm waits for them.
    public var only: Set<String>? = nil

    public init(plan: StudyPlan, files: StudyFiles, compute: StudyCompute = .cpu, say: @escaping (String) -> Void) throws {
        self.plan = plan
        self.files = files
        self.compute = compute
        self.say = say
        source = try ModelSource.resolve(plan.model)
    }

    var identity: StudyIdentity {
        StudyIdentity(model: plan.model, dataset: plan.dataset, sampleSeed: plan.samples.seed, testWindows: plan.samples.test,
                      validWindows: plan.samples.valid)
    }

    /// Keeps this run to the named arms (and the zero-shot floor, by that name).
    public func restrict(to names: [String]) throws {
        guard !names.isEmpty else { return }
        let known = plan.arms.map(\.name) + [Floor.zeroShot.name]
        for name in names where !known.contains(name) {
            throw StudyError.missing("--arm \(name): not an arm of this plan (arms and floors: \(known.joined(separator: ", ")))")
        }
        only = Set(names)
    }

    /// Whether this run works on `name` (an arm or "zero-shot").
    func chosen(_ name: String) -> Bool { only?.contains(name) ?? true }

    /// Arms (or floors) to start fresh, and whether this is a dry run (which removes nothing).
    var restarting: [String] = []
    var dryRun = false

    /// Names arms (or floors) whose results and run are removed so that they start fresh: only
    /// once every name is known and the directory is found to hold this study (never in a dry
    /// run, which says what it would remove).
    public func restart(_ names: [String], dryRun: Bool = false) throws {
        let known = plan.arms.map(\.name) + Floor.names
        for name in names where !known.contains(name) {
            throw StudyError.missing("--restart \(name): not an arm of this plan (arms and floors: \(known.joined(separator: ", ")))")
        }
        restarting = names
        self.dryRun = dryRun
    }

    /// Carries out `restart`, after the directory's identity was checked.
    func removeRestarted() {
        for name in restarting {
            if dryRun {
                say("restart: would remove the results and run of '\(name)' (dry run: nothing removed)")
                continue
            }
            try? FileManager.default.removeItem(at: files.arm(name))
            try? FileManager.default.removeItem(at: files.run(name))
            say("restart: removed the results and run of '\(name)'")
        }
    }

    /// Checks the plan against the directory and prints the summary, running nothing.
    public func summary(planText: Data) throws {
        try claimDirectory(planText: planText)
        try printSummary()
    }

    /// Runs every part of the plan that has no result yet.
    public func run(planText: Data) throws {
        try claimDirectory(planText: planText)
        try printSummary()
        if plan.floors.popularity { try rankPopularity() }
        let trainWindows = try decideTrainWindows()
        var waiting: [ArmSpec] = [], strandedArms: [String] = []
        for arm in plan.arms where arm.name != plan.baseline {
            guard chosen(arm.name) else {
                say("[\(arm.name)] left for another run (not named by --arm)")
                continue
            }
            guard compute.runs(arm) else {
                if try pendingDecoders(arm).isEmpty {
                    say("[\(arm.name)] done (results in \(files.arm(arm.name).path))")
                } else {
                    say("[\(arm.name)] waits for a run with --device \(arm.device!.rawValue): the plan pins it there")
                    waiting.append(arm)
                }
                continue
            }
            // An arm stranded without its weights does not stop the arms after it, unless named.
            if only == nil, let reason = stranded(arm, pending: try pendingDecoders(arm)) {
                say(reason + "; the other arms go on")
                strandedArms.append(arm.name)
                continue
            }
            try runArm(arm, trainWindows: trainWindows)
        }
        if !plan.floors.zeroShot.isEmpty && chosen(Floor.zeroShot.name) { try runZeroShot() }
        for e in plan.external where !files.exists(files.metrics(e.name, ExternalResults.decoder)) {
            say("\(e.name): no results yet in \(files.arm(e.name).path); they come from outside: \(e.command)")
        }
        let left = strandedArms.map { "\($0) (no weights here: retrain it with --restart \($0))" }
            + waiting.map { "\($0.name) (waiting for another device: --device \($0.device!.rawValue))" }
        let rest = only != nil ? "the arms named by --arm are done"
            : left.isEmpty ? "study complete" : "this device's part of the study is complete but for " + left.joined(separator: ", ")
        say("\(rest): `llmrec report \(files.directory.path) --out REPORT.md` writes the report")
    }

    /// Checks that the directory holds this study and that no arm with results has changed,
    /// then writes DIR/plan.json (the report's copy of the plan) and results/study.json, and
    /// loads the study's data. A refused plan leaves the directory as it was.
    func claimDirectory(planText: Data) throws {
        let known = files.exists(files.study)
        if known {
            let stored = try StudyJSON.read(StudyIdentity.self, from: files.study)
            if stored != identity {
                throw StudyError.otherStudy(directory: files.results.path, stored: describe(stored), now: describe(identity))
            }
        }
        context = try StudyContext.load(plan: plan, files: files, source: source, say: say)
        removeRestarted()
        try checkStoredArms()
        if !known { try StudyJSON.write(identity, to: files.study) }
        if (try? Data(contentsOf: files.plan)) != planText { try writeFileAtomically(planText, to: files.plan) }
        var machines = files.exists(files.machines) ? try StudyJSON.read([MachineRecord].self, from: files.machines) : []
        if !machines.contains(.current) {
            machines.append(.current)
            try StudyJSON.write(machines, to: files.machines)
        }
    }

    func describe(_ i: StudyIdentity) -> String {
        "model \(i.model), dataset \(i.dataset.source) split \(i.dataset.split.rawValue) history \(i.dataset.history), "
            + "seed \(i.sampleSeed), \(i.testWindows) test and \(i.validWindows) valid windows"
    }

    // MARK: - The power check

    /// Trains and evaluates the baseline arm, growing the training windows until it clears the
    /// floor or the planned sizes run out; returns the training windows every arm then uses.
    func decideTrainWindows() throws -> Int {
        let baseline = plan.arm(plan.baseline)!
        guard let check = plan.powerCheck else {
            try runArm(baseline, trainWindows: plan.samples.train)
            return plan.samples.train
        }
        var record = files.exists(files.powerCheck)
            ? try StudyJSON.read(PowerCheckRecord.self, from: files.powerCheck)
            : PowerCheckRecord(arm: baseline.name, against: check.against, metric: check.metric)
        let sizes = [plan.samples.train] + check.train
        var chosen = sizes.last!
        for (i, size) in sizes.enumerated() {
            let last = i == sizes.count - 1
            if let attempt = record.attempts.first(where: { $0.trainWindows == size }) {
                if attempt.passed || last { chosen = size; break }
                continue
            }
            // Only the decoder the check reads; the others once the size is settled.
            let firstDecoder = baseline.decoders[0]
            try runArm(baseline, trainWindows: size, decoders: [firstDecoder])
            let attempt = try powerAttempt(arm: baseline.name, decoder: firstDecoder, trainWindows: size, check: check)
            record.attempts.append(attempt)
            try StudyJSON.write(record, to: files.powerCheck)
            say(String(format: "power check: %@ − %@ in %@ with %d training windows = %+.4f [%+.4f, %+.4f]: %@", baseline.name, check.against,
                       check.metric.label, size, attempt.difference, attempt.low, attempt.high,
                       attempt.passed ? "passed" : (last ? "not passed, and no larger size is planned" : "not passed; growing the training windows")))
            if attempt.passed || last { chosen = size; break }
            try archiveAttempt(baseline.name, trainWindows: size)
        }
        if record.chosenTrainWindows != chosen {
            record.chosenTrainWindows = chosen
            try StudyJSON.write(record, to: files.powerCheck)
        }
        try runArm(baseline, trainWindows: chosen)
        return chosen
    }

    func powerAttempt(arm: String, decoder: String, trainWindows: Int, check: PowerCheckSpec) throws -> PowerCheckRecord.Attempt {
        let armRanks = try RankedSample.read(files.rankings(arm, decoder))
        let floorRanks = try RankedSample.read(files.rankings(check.against, ExternalResults.decoder))
        let n = min(armRanks.count, floorRanks.count)
        let a = floorRanks.prefix(n).map { check.metric.value(rank: $0.rank) }
        let b = armRanks.prefix(n).map { check.metric.value(rank: $0.rank) }
        let c = PairedBootstrap.compare(a, b)
        return .init(trainWindows: trainWindows, armMean: c.meanB, floorMean: c.meanA, difference: c.difference, low: c.low, high: c.high,
                     passed: c.low > 0)
    }

    /// Keeps a failed attempt's results under results/power-check/ and removes its run.
    func archiveAttempt(_ arm: String, trainWindows: Int) throws {
        let archive = files.results.appendingPathComponent("power-check").appendingPathComponent("\(arm)-train\(trainWindows)")
        let fm = FileManager.default
        try fm.createDirectory(at: archive.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? fm.removeItem(at: archive)
        try fm.moveItem(at: files.arm(arm), to: archive)
        try? fm.removeItem(at: files.run(arm))
    }
}
