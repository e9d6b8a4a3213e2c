// `llmrec eval`: HR@K / NDCG@K of a model or trained run (constrained beam search) or of the
// popularity baseline on a prepared dataset's test (or valid) samples.
import ArgumentParser
import CatalogIndex
import CausalLM
import Decoding
import Evaluation
import Foundation
import RecData
import Support
import Tokenizers
import Training

enum Baseline: String, ExpressibleByArgument, CaseIterable {
    case popularity
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure HR@K and NDCG@K of a model, a trained run, or the popularity baseline.",
        discussion: """
            Each sample's prompt goes through constrained beam search over the whole catalog's trie; \
            the ranked items are compared with the sample's target (HR@K: target in the top K; NDCG@K: \
            1/log2(rank + 2)). Users are decoded --batch at a time. --out writes one JSON line per sample \
            (user, target, ranked items with titles and scores, the target's rank) for `llmrec compare`.

            Examples:
              llmrec eval --model runs/igd --data data/ml-100k --max-users 200 --out runs/igd/test.jsonl
              llmrec eval --model smollm2 --model runs/igd --baseline popularity --data data/ml-100k --max-users 200
              llmrec eval --baseline popularity --data data/ml-100k
            """)

    @Option(help: ArgumentHelp("A run directory (llmrec train), a .gguf file, a Hugging Face directory, or smollm2; repeat to put several in one table. (default: smollm2, unless only --baseline is given)",
                               valueName: "run|model"))
    var model: [String] = []

    @OptionGroup var dataOptions: DatasetOptions

    @Option(help: "Which samples: test or valid.")
    var split: SplitName = .test

    @Option(help: ArgumentHelp("Cut-offs K for HR@K and NDCG@K, comma-separated.", valueName: "k,…"))
    var k: String = "1,3,5,10,20"

    @OptionGroup var decoding: SearchOptions
    @OptionGroup var precisionOptions: PrecisionOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "Evaluate only the first N samples of the split.")
    var maxUsers: Int?

    @Option(help: "Users decoded together.")
    var batch: Int = 8

    @Option(help: ArgumentHelp("History items in each prompt, the latest first kept, read from the user's whole sequence (train, valid and test samples chained). (default: the samples' stored history, data prepare's --history)",
                               valueName: "n"))
    var history: Int?

    @Option(help: "Also rank by this baseline (a row after the models'): popularity.")
    var baseline: Baseline?

    @Option(help: "For a run directory: which checkpoint, best or latest.")
    var checkpoint: RunCheckpoint = .best

    @Option(help: ArgumentHelp("Write one JSON line per sample here (one model or baseline only).", valueName: "file"))
    var out: String?

    @Flag(help: "Print the metrics as one JSON object.")
    var json = false

    @OptionGroup var global: GlobalOptions

    /// `samples` (the first of `split`) with up to `limit` items of their users' whole sequences.
    static func withWholeHistories(_ samples: [StoredSample], split: SplitName, of dataset: PreparedDataset, limit: Int) throws -> [StoredSample] {
        let order: [SplitName] = [.train, .valid, .test]
        let splits = try order.map { try DatasetReader.samples($0, of: dataset) }
        let histories = UserHistories(splits: splits, historyLength: dataset.manifest.options.historyLength)
        let index = order.firstIndex(of: split)!
        return samples.enumerated().map { histories.sample($1, split: index, index: $0, limit: limit) }
    }

    var cutoffs: [Int] { k.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        let ks = cutoffs
        if ks.isEmpty || ks.count != k.split(separator: ",").count || ks.contains(where: { $0 < 1 }) {
            throw ValidationError("--k must be positive whole numbers separated by commas, got '\(k)'.")
        }
        if !models.isEmpty { try decoding.check(count: ks.max()!) }
        if let m = maxUsers, m < 1 { throw ValidationError("--max-users must be at least 1, got \(m).") }
        if out != nil, rows.count > 1 { throw ValidationError("--out takes the rankings of one model or baseline; this evaluates \(rows.count).") }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch).") }
        if let h = history, h < 1 { throw ValidationError("--history must be at least 1, got \(h).") }
    }

    /// What to evaluate, in table order: the models, then the baseline.
    var rows: [String] { models + (baseline.map { [$0.rawValue] } ?? []) }

    /// The models to evaluate: the --model values, or smollm2 when neither a model nor a baseline is given.
    var models: [String] { model.isEmpty && baseline == nil ? ["smollm2"] : model }

    func run() throws {
        let log = global.prepareForCompute()
        let dataset = try dataOptions.open()
        var samples = try DatasetReader.samples(split, of: dataset, limit: maxUsers)
        guard !samples.isEmpty else { throw CommandFailure("\(dataOptions.data): the \(split.rawValue) split is empty.") }
        if let history { samples = try Self.withWholeHistories(samples, split: split, of: dataset, limit: history) }
        let ks = cutoffs
        let count = ks.max()!
        if count > dataset.catalog.count {
            log.warning("K = \(count) is more than the catalog's \(dataset.catalog.count) items; lists hold at most the whole catalog")
        }
        var table: [(String, MetricsSummary)] = []
        for spec in models {
            let loaded = try ModelOrRun.load(spec, checkpoint: checkpoint)
            let recommender = Recommender(model: loaded.model, catalog: try TokenizedCatalog(dataset: dataset, tokenizer: loaded.tokenizer).formatted(loaded.format), name: loaded.name,
                                      precision: precisionOptions.chosen(log: log),
                                      passes: try deviceOptions.beamPasses(loaded.model, precision: precisionOptions.precision))
            let evaluator = Evaluator(recommender: recommender)
            let bar = ProgressBar(label: "eval \(URL(fileURLWithPath: spec).lastPathComponent)", total: samples.count)
            // Seconds count the ranking only, not loading the model and the catalog.
            let start = Date()
            let records = try evaluator.run(samples, options: decoding.options(count: count), batch: batch) { bar.update($0) }
            bar.finish()
            let dropped = records.filter { $0.droppedHistory > 0 }.count
            if dropped > 0 { log.warning("\(dropped) histories were longer than the model's context; their oldest items were left out") }
            table.append((loaded.name, try report(records, dataset: dataset, seconds: Date().timeIntervalSince(start))))
        }
        if baseline == .popularity {
            // Training-target counts come from the dataset alone: the baseline needs no model.
            let counts = try DatasetReader.targetCounts(.train, of: dataset)
            let start = Date()
            let records = Evaluator.popularity(samples, targetCounts: counts, count: count)
            table.append(("popularity", try report(records, dataset: dataset, seconds: Date().timeIntervalSince(start))))
        }
        if !json { print(metricsTable(table), terminator: "") }
    }

    /// The metrics of one row; writes --out and prints the JSON line when asked.
    func report(_ records: [EvaluationRecord], dataset: PreparedDataset, seconds: Double) throws -> MetricsSummary {
        let ks = cutoffs
        let summary = MetricsSummary(ranked: records.map(\.items), targets: records.map(\.target), ks: ks, catalogSize: dataset.catalog.count, seconds: seconds)
        if let out { try EvaluationFile.write(records, catalog: dataset.catalog, to: URL(fileURLWithPath: out)) }
        if json {
            var obj: [String: Any] = ["users": summary.users, "valid_share": summary.validShare, "seconds": seconds, "split": split.rawValue,
                                      "precision": precisionOptions.precision.rawValue]
            for (i, k) in ks.enumerated() { obj["hr@\(k)"] = summary.hr[i]; obj["ndcg@\(k)"] = summary.ndcg[i] }
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
        }
        return summary
    }
}
