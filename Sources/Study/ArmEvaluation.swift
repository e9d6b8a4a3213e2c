// Evaluating an arm, the zero-shot model or the popularity floor on the study's test windows:
// each decoder on the first n windows of the one draw, in batches of users, appending each
// batch to a partial file so that a killed evaluation continues from its last whole batch;
// the finished rankings and metrics are then written whole and the partial file removed.
import CausalLM
import Decoding
import Evaluation
import Foundation
import Kernels
import RecData
import Support
import Training

/// Results made outside `study run` (and the popularity floor) are full rankings of the
/// catalog, stored under this decoder name.
public enum ExternalResults {
    public static let decoder = "full-ranking"
    /// Items kept per popularity (and external) ranking: enough for HR@20.
    public static let listLength = 20
}

extension StudyRunner {
    /// Whether `decoder`'s results for `arm` exist; they must have been made with the same settings.
    func isEvaluated(_ arm: String, _ decoder: DecoderSpec) throws -> Bool {
        let url = files.metrics(arm, decoder.name)
        guard files.exists(url), files.exists(files.rankings(arm, decoder.name)) else { return false }
        let stored = try StudyJSON.read(DecoderRecord.self, from: url)
        var expected = decoder
        expected.samples = decoder.samples ?? plan.samples.test
        var storedSpec = stored.decoder
        storedSpec.samples = stored.samples
        if storedSpec != expected || stored.beams != plan.evaluation.beams {
            throw StudyError.changedArm(arm: arm, directory: files.arm(arm).path,
                                        differences: settingDifferences(storedSpec, expected) + (stored.beams == plan.evaluation.beams ? [] : ["beams: results have \(stored.beams), the plan has \(plan.evaluation.beams)"]))
        }
        return true
    }

    /// Ranks the first n test windows with each decoder, resuming partial files; in bf16 when
    /// the arm trained in bf16, with prompts in the format it trained in.
    func evaluate(_ arm: String, model: DecoderModel, decoders: [DecoderSpec], precision: Precision = .fp32,
                  format: SampleFormat = .windows) throws {
        let recommender = Recommender(model: model, catalog: context.catalog.formatted(format), precision: precision,
                                      passes: try compute.passes?(model, precision))
        for decoder in decoders {
            let n = decoder.samples ?? plan.samples.test
            let samples = context.testSamples(n, history: decoder.history)
            let partialURL = files.partial(arm, decoder.name)
            var done = RankedSample.readPartial(partialURL)
            if done.count > n { done.removeAll() }
            // Keep only whole lines before appending.
            try FileManager.default.createDirectory(at: partialURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try writeFileAtomically(Data(done.map { $0.line(withSeconds: true) + "\n" }.joined().utf8), to: partialURL)
            let options = decoder.options(beams: plan.evaluation.beams)
            say("[\(arm)] evaluating with \(decoder.name) (\(decoder.summary)) on \(n) test windows"
                + (done.isEmpty ? "" : ", resuming after \(done.count)"))
            let progress = PhaseProgress(label: "[\(arm)] \(decoder.name)", total: n, done: done.count, say: say)
            while done.count < n {
                let start = Date()
                let chunk = Array(samples[done.count..<min(n, done.count + plan.evaluation.batch)])
                let lists = try recommender.recommend(chunk.map(\.history), options: options)
                let share = Date().timeIntervalSince(start) / Double(chunk.count)
                let ranked = zip(chunk, lists).enumerated().map { i, pair in
                    let items = pair.1.items.map(\.item)
                    return RankedSample(position: done.count + i, target: pair.0.target, rank: RankingMetrics.rank(of: pair.0.target, in: items),
                                        items: items, seconds: share)
                }
                try RankedSample.append(ranked, to: partialURL)
                done += ranked
                progress.update(done.count, detail: String(format: "%.2f s/window", share))
                if stopWhen(.evaluationBatch(arm: arm, decoder: decoder.name, done: done.count)) || stopRequested() {
                    throw StudyInterrupted(point: .evaluationBatch(arm: arm, decoder: decoder.name, done: done.count))
                }
            }
            // Counted over every window (a resumed evaluation decoded only some): whether a prompt
            // drops history depends on the prompt alone.
            let dropped = samples.prefix(n).filter { recommender.prompt(history: $0.history).dropped > 0 }.count
            try finish(arm, decoder, ranked: done, dropped: dropped)
            try? FileManager.default.removeItem(at: partialURL)
        }
    }

    /// Writes DECODER.tsv and DECODER.json for finished rankings.
    func finish(_ arm: String, _ decoder: DecoderSpec, ranked: [RankedSample], dropped: Int) throws {
        let summary = MetricsSummary(ranked: ranked.map(\.items), targets: ranked.map(\.target), ks: DecoderRecord.cutoffs,
                                     catalogSize: context.dataset.catalog.count, seconds: ranked.reduce(0) { $0 + $1.seconds })
        var metrics: [String: Double] = [:]
        for (i, k) in summary.ks.enumerated() {
            metrics["hr@\(k)"] = summary.hr[i]
            metrics["ndcg@\(k)"] = summary.ndcg[i]
        }
        var spec = decoder
        spec.samples = nil
        let record = DecoderRecord(arm: arm, decoder: spec, beams: plan.evaluation.beams, samples: ranked.count, metrics: metrics,
                                   validShare: summary.validShare, fullListShare: summary.fullListShare,
                                   seconds: summary.seconds, droppedHistories: dropped, device: arm == Floor.popularity.name ? nil : compute.recorded)
        try FileManager.default.createDirectory(at: files.arm(arm), withIntermediateDirectories: true)
        try RankedSample.write(ranked, to: files.rankings(arm, decoder.name))
        try StudyJSON.write(record, to: files.metrics(arm, decoder.name))
        say(String(format: "[%@] %@: NDCG@10 %.4f, HR@10 %.4f on %d windows, %@", arm, decoder.name, metrics["ndcg@10"] ?? 0,
                   metrics["hr@10"] ?? 0, ranked.count, formatDuration(summary.seconds)))
    }

    /// The popularity floor: training-target frequency over the whole training split, the
    /// window's history excluded, on all test windows.
    func rankPopularity() throws {
        let decoder = DecoderSpec(name: ExternalResults.decoder)
        if files.exists(files.metrics(Floor.popularity.name, decoder.name)) { return }
        let baseline = PopularityBaseline(targetCounts: context.targetCounts)
        let start = Date()
        let ranked = context.testSamples(plan.samples.test).enumerated().map { i, s in
            let items = baseline.rank(history: s.history, k: ExternalResults.listLength)
            return RankedSample(position: i, target: s.target, rank: RankingMetrics.rank(of: s.target, in: items), items: items)
        }
        var timed = ranked
        let share = Date().timeIntervalSince(start) / Double(max(ranked.count, 1))
        for i in timed.indices { timed[i].seconds = share }
        try StudyJSON.write(ArmRecord(name: Floor.popularity.name, training: TrainingParameters(), trainWindows: context.train.count,
                                      validWindows: 0, modelFingerprint: "", kind: Floor.popularity.name),
                            to: files.armSettings(Floor.popularity.name))
        try finish(Floor.popularity.name, decoder, ranked: timed, dropped: 0)
    }

    /// The zero-shot floor: the untrained model with each of its decoders.
    func runZeroShot() throws {
        let record = ArmRecord(name: Floor.zeroShot.name, training: TrainingParameters(), trainWindows: 0, validWindows: 0,
                               modelFingerprint: fingerprint(source.path), kind: Floor.zeroShot.name)
        try claimArm(record)
        let pending = try plan.floors.zeroShot.compactMap { plan.decoder($0) }.filter { try !isEvaluated(Floor.zeroShot.name, $0) }
        guard !pending.isEmpty else {
            say("[zero-shot] done")
            return
        }
        let (model, _) = try source.load()
        try evaluate(Floor.zeroShot.name, model: model, decoders: pending)
    }
}
