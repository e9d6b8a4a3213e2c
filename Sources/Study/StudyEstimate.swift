// The plan summary `study run` prints before it starts: each arm's state and the hours left,
// estimated from what this machine measured — finished arms' training and decoding times when
// there are any, otherwise one timed training micro-batch and one timed decoding batch of the
// base model.
import CausalLM
import Decoding
import Foundation
import Kernels
import Support
import Training

extension StudyRunner {
    func printSummary() throws {
        let trainWindows = (try? StudyJSON.read(PowerCheckRecord.self, from: files.powerCheck))?.chosenTrainWindows ?? plan.samples.train
        let rates = try measuredRates(trainWindows: trainWindows)
        say("study '\(plan.name)': \(plan.arms.count) arms, \(plan.samples.test) test windows (seed \(plan.samples.seed)), "
            + "\(trainWindows) training windows, model \(plan.model), dataset \(plan.dataset.source)")
        if let rates {
            let bf16 = rates.byPrecision[.fp32] == nil ? "" : rates.byPrecision[.bf16].map { training in
                "; in bf16 \(Int(training / 60)) min" + (rates.windowSecondsByPrecision[.bf16].map { String(format: " and %.2f s", $0) } ?? "")
            } ?? ""
            say("pace on this machine (\(rates.source)): training \(Int(rates.trainingSecondsPerArm / 60)) min per arm, "
                + String(format: "decoding %.2f s per test window", rates.secondsPerWindow) + bf16)
        } else {
            say("pace on \(compute.device): not known until an arm has finished there, so no hours are estimated")
        }
        /// "  1.2 h left  ", or blanks where the pace is unknown.
        func left(_ hours: Double?) -> String { hours.map { String(format: "%5.1f h left  ", $0) } ?? "             " }
        var total = 0.0
        let ordered = [plan.arm(plan.baseline)!] + plan.arms.filter { $0.name != plan.baseline }
        var corpora: [String: TrainingCorpus] = [:]
        for arm in ordered {
            let work = plannedWork(arm, trainWindows: trainWindows, corpora: &corpora)
            let trained = files.exists(files.training(arm.name))
            let windows = windowsToDecode(arm.name, arm.decoders)
            // A started training counts only the steps after its last checkpoint.
            let done = (try? StudyJSON.read(TrainingClock.self, from: files.trainingClock(arm.name)))?.step ?? 0
            let hours = rates.map { rates in
                let perArm = rates.byPrecision[arm.training.precision ?? .fp32] ?? rates.trainingSecondsPerArm
                let remaining = trained ? 0 : arm.training.format == .sequences ? sequenceSecondsLeft(arm, work: work, rates: rates, doneSteps: done)
                    : perArm * max(0, 1 - Double(done) / Double(arm.training.totalSteps(trainSamples: trainWindows)))
                let perWindow = rates.windowSecondsByPrecision[arm.training.precision ?? .fp32] ?? rates.secondsPerWindow
                return (remaining + Double(windows) * perWindow) / 3600
            }
            // Decoders left without the weights (trained on another machine): not this run's work.
            let stranded = windows > 0 && weightsGone(arm.name)
            var state = trained && windows == 0 ? "done"
                : stranded ? "trained, \(windows) windows to decode, no weights here (--restart \(arm.name) redoes it)"
                : trained ? "trained; \(windows) windows to decode" : files.exists(files.run(arm.name)) ? "started (resumes)" : "to do"
            // The baseline runs whatever --arm says (every other arm waits for it).
            let here = !stranded && compute.runs(arm) && (chosen(arm.name) || arm.name == plan.baseline)
            if here { total += hours ?? 0 } else if state != "done" && !stranded {
                state += compute.runs(arm) ? " (not named by --arm)" : " by a run with --device \(arm.device!.rawValue)"
            }
            say("  \(arm.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(arm.decoders.joined(separator: ", ").padding(toLength: 34, withPad: " ", startingAt: 0)) "
                + left(here ? hours : nil) + "\(grouped(work.tokens)) tokens".padding(toLength: 18, withPad: " ", startingAt: 0) + state)
        }
        if !plan.floors.zeroShot.isEmpty {
            let windows = windowsToDecode(Floor.zeroShot.name, plan.floors.zeroShot)
            let hours = chosen(Floor.zeroShot.name) ? rates.map { Double(windows) * $0.secondsPerWindow / 3600 } : nil
            total += hours ?? 0
            say("  zero-shot    \(plan.floors.zeroShot.joined(separator: ", ").padding(toLength: 34, withPad: " ", startingAt: 0)) "
                + left(hours) + (windows == 0 ? "done" : chosen(Floor.zeroShot.name) ? "to do" : "to do (not named by --arm)"))
        }
        // Unfinished arms pinned to another device are not this run's work.
        let elsewhere = plan.arms.filter { !compute.runs($0) && !files.exists(files.training($0.name)) }
        let besides = elsewhere.isEmpty ? "" : " on this device, besides " + elsewhere.map { "\($0.name) (--device \($0.device!.rawValue))" }.joined(separator: ", ")
        let amount = rates == nil ? "hours left unknown" : String(format: "about %.1f h of work left", total)
        say("\(amount)\(besides); finished parts are kept, so the study can stop and continue at any time")
    }

    /// Test windows `arm` still has to decode with `decoders`: none for a finished decoder, and
    /// those after its partial file's last whole batch for one under way.
    func windowsToDecode(_ arm: String, _ decoders: [String]) -> Int {
        decoders.compactMap { plan.decoder($0) }.reduce(0) { sum, decoder in
            if (try? isEvaluated(arm, decoder)) == true { return sum }
            let started = RankedSample.readPartial(files.partial(arm, decoder.name)).count
            return sum + max(0, (decoder.samples ?? plan.samples.test) - started)
        }
    }

    /// An arm's training as planned: its optimiser steps and their forward tokens (its batches, in
    /// order; validation not counted). `corpora` keeps the corpora built so far, by their settings,
    /// so that arms that share them (a study's sequence arms) chain and chunk the split once.
    func plannedWork(_ arm: ArmSpec, trainWindows: Int, corpora: inout [String: TrainingCorpus]) -> (steps: Int, tokens: Int) {
        let p = arm.training
        let key = p.format == .sequences ? "sequences-\(p.chunkTokens)" : "windows-\(trainWindows)"
        let corpus = corpora[key] ?? trainingCorpus(p, trainWindows: trainWindows)
        corpora[key] = corpus
        return Trainer.plannedWork(corpus: corpus, parameters: p)
    }

    /// Training seconds a sequence arm has left: its planned tokens after `doneSteps`, at the
    /// tokens/s measured in its precision.
    func sequenceSecondsLeft(_ arm: ArmSpec, work: (steps: Int, tokens: Int), rates: Rates, doneSteps: Int) -> Double {
        let pace = rates.tokensPerSecondByPrecision[arm.training.precision ?? .fp32] ?? rates.tokensPerSecond
        return Double(work.tokens) * max(0, 1 - Double(doneSteps) / Double(work.steps)) / pace
    }

    struct Rates {
        var trainingSecondsPerArm: Double
        var secondsPerWindow: Double
        var source: String
        /// Finished arms' training time by their precision (bf16 arms train faster).
        var byPrecision: [Precision: Double] = [:]
        /// Decoding seconds per test window by the precision decoded in (bf16 arms decode in bf16).
        var windowSecondsByPrecision: [Precision: Double] = [:]
        /// Training tokens per second (finished arms' mean by precision, or the timed micro-batch's).
        var tokensPerSecond = 0.0
        var tokensPerSecondByPrecision: [Precision: Double] = [:]
    }

    /// Finished arms' pace on this run's device, or a short measurement of the base model on the
    /// CPU; nil on a GPU where no arm has finished yet (timing the CPU there would say nothing).
    func measuredRates(trainWindows: Int) throws -> Rates? {
        // Work done on another device (a GPU's arms in a CPU run, or the other way) says nothing about this one's pace.
        // Sequence arms train on every window whatever the draw; their pace is per token.
        let trainedHere = { (arm: String) in
            (try? StudyJSON.read(TrainingRecord.self, from: self.files.training(arm))).flatMap {
                ($0.trainWindows == trainWindows || self.plan.arm(arm)?.training.format == .sequences) && $0.device == self.compute.recorded ? $0 : nil
            }
        }
        let trained = plan.arms.compactMap { trainedHere($0.name) }
        // The zero-shot floor decodes in fp32.
        let precisions = Dictionary(uniqueKeysWithValues: plan.arms.map { ($0.name, $0.training.precision ?? .fp32) })
            .merging([Floor.zeroShot.name: .fp32]) { a, _ in a }
        let decoded = precisions.keys.sorted().flatMap { arm in
            plan.decoders.compactMap { try? StudyJSON.read(DecoderRecord.self, from: files.metrics(arm, $0.name)) }.filter { $0.device == compute.recorded }
        }
        if !trained.isEmpty, !decoded.isEmpty {
            var byPrecision: [Precision: [Double]] = [:]
            for arm in plan.arms {
                guard let record = trainedHere(arm.name) else { continue }
                byPrecision[arm.training.precision ?? .fp32, default: []].append(record.seconds)
            }
            let means = byPrecision.mapValues { $0.reduce(0, +) / Double($0.count) }
            var tokenPaces: [Precision: [Double]] = [:]
            for arm in plan.arms { if let r = trainedHere(arm.name) { tokenPaces[arm.training.precision ?? .fp32, default: []].append(r.meanTokensPerSecond) } }
            let tokenMeans = tokenPaces.mapValues { $0.reduce(0, +) / Double($0.count) }
            /// Decoding seconds per test window over `records`.
            func pace(_ records: [DecoderRecord]) -> Double {
                records.reduce(0) { $0 + $1.seconds } / Double(max(1, records.reduce(0) { $0 + $1.samples }))
            }
            let perWindow = Dictionary(grouping: decoded) { precisions[$0.arm] ?? .fp32 }.mapValues(pace)
            // The pace printed (and used for arms of a precision not yet timed) is fp32's where there is one.
            return Rates(trainingSecondsPerArm: means[.fp32] ?? trained.reduce(0) { $0 + $1.seconds } / Double(trained.count),
                         secondsPerWindow: perWindow[.fp32] ?? pace(decoded),
                         source: "\(trained.count) finished arm(s)", byPrecision: means, windowSecondsByPrecision: perWindow,
                         tokensPerSecond: tokenMeans[.fp32] ?? trained.reduce(0) { $0 + $1.meanTokensPerSecond } / Double(trained.count),
                         tokensPerSecondByPrecision: tokenMeans)
        }
        guard compute.engine == nil else { return nil }
        // One micro-batch through the forward and backward pass, one batch of users decoded.
        let (model, _) = try source.load()
        let p = plan.arm(plan.baseline)!.training
        let corpus = trainingCorpus(p, trainWindows: trainWindows)
        let batch = Array(corpus.train.prefix(p.batch))
        let (sequences, outputs, _, _) = corpus.assemble(batch)
        let tokens = sequences.reduce(0) { $0 + $1.count }
        let grads = ParameterBuffer(count: model.layout.count, zeroed: true)
        let t0 = Date()
        let (logits, tape) = try model.trainForward(sequences, outputs: outputs, precision: p.precision ?? .fp32)
        let dlogits = [Float](repeating: 1e-6, count: logits.count)
        dlogits.withUnsafeBufferPointer { model.backward(tape, dlogits: $0.baseAddress!, grads: grads) }
        model.recycle(tape)
        let tokensPerSecond = Double(tokens) / Date().timeIntervalSince(t0)
        // Every training example's tokens, per epoch.
        let perEpoch = corpus.train.reduce(0) { $0 + corpus.tokens($1) }
        let steps = p.totalSteps(trainSamples: corpus.train.count)
        let fraction = Double(steps * p.batch * p.gradAccum) / Double(corpus.train.count)
        // Validation passes (forward only, about a third of a training step's work) at each checkpoint.
        let validations = p.evalEvery > 0 ? steps / p.evalEvery + 1 : 1
        let validTokens = Double(context.draw.valid.count) * Double(perEpoch) / Double(max(corpus.train.count, 1))
        let trainingSeconds = (Double(perEpoch) * fraction + Double(validations) * validTokens / 3) / tokensPerSecond
        let recommender = Recommender(model: model, catalog: context.catalog)
        let users = context.testSamples(min(plan.evaluation.batch, plan.samples.test))
        let t1 = Date()
        _ = try recommender.recommend(users.map(\.history), options: plan.decoders[0].options(beams: plan.evaluation.beams))
        let perWindow = Date().timeIntervalSince(t1) / Double(users.count)
        return Rates(trainingSecondsPerArm: trainingSeconds, secondsPerWindow: perWindow,
                     source: String(format: "one timed micro-batch, %.0f tokens/s, and one timed decoding batch", tokensPerSecond),
                     tokensPerSecond: tokensPerSecond)
    }
}
