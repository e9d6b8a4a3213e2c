// `llmrec recommend` (ranked titles for one history) and `llmrec compare` (two evaluations of
// the same samples, with paired bootstrap intervals).
import ArgumentParser
import Decoding
import Evaluation
import Foundation
import RecData
import Training

struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Recommend catalog items for a history of titles.",
        discussion: """
            The history's titles must be catalog titles (exact, or the same ignoring case); for one that \
            is not, the closest catalog titles are listed. The prompt is the dataset's, the ranking the \
            same constrained beam search as `llmrec eval`. Histories longer than the model's context lose \
            their oldest titles, with a warning.

            Example:
              llmrec recommend --model runs/igd --data data/ml-100k --history "Toy Story (1995)" "Heat (1995)" --top 5
            """)

    @Option(help: ArgumentHelp("A run directory (llmrec train), a .gguf file, a Hugging Face directory, or smollm2.", valueName: "run|model"))
    var model: String = "smollm2"

    @OptionGroup var dataOptions: DatasetDirectoryOption

    @Option(parsing: .upToNextOption, help: ArgumentHelp("The titles the user has interacted with, oldest first.", valueName: "title"))
    var history: [String] = []

    @Option(help: "How many items to return.")
    var top: Int = 10

    @OptionGroup var decoding: DecodingFlags

    @Option(help: "For a run directory: which checkpoint, best or latest.")
    var checkpoint: RunCheckpoint = .best

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if history.isEmpty { throw ValidationError("--history needs at least one title: the model recommends from what the user has seen.") }
        if top < 1 { throw ValidationError("--top must be at least 1, got \(top).") }
        try decoding.check(count: top)
    }

    func run() throws {
        let log = global.prepareForCompute()
        let dataset = try dataOptions.open()
        // Titles first: a typo should not wait for the model to load.
        let items: [Int]
        switch dataset.catalog.items(titled: history) {
        case .success(let found): items = found
        case .failure(let unknown): throw CommandFailure("in \(dataOptions.data)'s catalog: " + unknown.description)
        }
        let loaded = try loadRecommender(model, checkpoint: checkpoint)
        let recommender = try Recommender(model: loaded.model, tokenizer: loaded.tokenizer, dataset: dataset, name: loaded.name)
        let count = min(top, dataset.catalog.count)
        if count < top { log.warning("the catalog has only \(dataset.catalog.count) items") }
        let result = try recommender.recommend([items], options: decoding.options(count: count))[0]
        if result.droppedHistory > 0 { log.warning("the history is longer than the model's context: its \(result.droppedHistory) oldest titles were left out") }
        let list = result.items
        if json {
            let obj = list.map { ["id": $0.item, "title": dataset.catalog.titles[$0.item], "score": $0.score] as [String: Any] }
            print(String(decoding: try JSONSerialization.data(withJSONObject: ["items": obj], options: [.sortedKeys]), as: UTF8.self))
        } else {
            for (i, r) in list.enumerated() { print(String(format: "%3d  %9.4f  ", i + 1, r.score) + dataset.catalog.titles[r.item]) }
        }
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two evaluations of the same samples with paired bootstrap confidence intervals.",
        discussion: """
            A and B are files written by `llmrec eval --out` on the same split. For each K, prints the \
            mean NDCG@K and HR@K of both, the difference B − A, and its 95% interval from a paired \
            bootstrap over the samples (the same resampled samples for both sides). An interval that \
            excludes 0 is a difference the samples support.

            Example:
              llmrec compare runs/ce/test.jsonl runs/igd/test.jsonl
            """)

    @Argument(help: ArgumentHelp("The baseline evaluation (eval --out).", valueName: "A.jsonl"))
    var a: String

    @Argument(help: ArgumentHelp("The evaluation compared with it.", valueName: "B.jsonl"))
    var b: String

    @Option(help: ArgumentHelp("Cut-offs K, comma-separated.", valueName: "k,…"))
    var k: String = "1,5,10"

    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 1000

    @Option(help: "Seed of the resampling.")
    var seed: UInt64 = 42

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if resamples < 100 { throw ValidationError("--resamples must be at least 100, got \(resamples).") }
        let ks = k.split(separator: ",").compactMap { Int($0) }
        if ks.isEmpty || ks.count != k.split(separator: ",").count || ks.contains(where: { $0 < 1 }) {
            throw ValidationError("--k must be positive whole numbers separated by commas, got '\(k)'.")
        }
    }

    /// (user, target) → (rank or nil, list length), in file order.
    static func read(_ path: String) throws -> [(key: String, rank: Int?, length: Int)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CommandFailure("\(path): cannot read the file.") }
        var out: [(String, Int?, Int)] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let user = obj["user"] as? String,
                let target = obj["target"] as? Int, let rank = obj["rank"] as? Int, let items = obj["items"] as? [Any]
            else { throw CommandFailure("\(path):\(n + 1): expected a line written by llmrec eval --out (user, target, rank, items).") }
            out.append(("\(user)\u{1}\(target)", rank >= 0 ? rank : nil, items.count))
        }
        if out.isEmpty { throw CommandFailure("\(path): no samples.") }
        return out
    }

    func run() throws {
        let ra = try Self.read(a), rb = try Self.read(b)
        let byKey = Dictionary(rb.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        guard ra.count == rb.count, ra.allSatisfy({ byKey[$0.key] != nil }) else {
            throw CommandFailure("\(a) and \(b) do not hold the same samples (\(ra.count) and \(rb.count) lines); evaluate both on the same split and --max-users.")
        }
        let ks = k.split(separator: ",").compactMap { Int($0) }
        let shortest = min(ra.map(\.length).min()!, rb.map(\.length).min()!)
        if let big = ks.first(where: { $0 > shortest }) {
            throw CommandFailure("K = \(big) exceeds the shortest ranked list (\(shortest) items); evaluate with a larger --k or compare smaller K.")
        }
        var rows: [[String]] = [["metric", "A", "B", "B − A", "95% interval"]]
        for kk in ks {
            for (name, metric) in [("NDCG@\(kk)", RankingMetrics.ndcg), ("HR@\(kk)", RankingMetrics.hit)] {
                let va = ra.map { metric($0.rank, kk) }, vb = ra.map { metric(byKey[$0.key]!.rank, kk) }
                let c = PairedBootstrap.compare(va, vb, resamples: resamples, seed: seed)
                rows.append([name, String(format: "%.4f", c.meanA), String(format: "%.4f", c.meanB), String(format: "%+.4f", c.difference),
                             String(format: "[%+.4f, %+.4f]", c.low, c.high)])
            }
        }
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
        for row in rows { print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")) }
        print("\(ra.count) samples, \(resamples) paired bootstrap resamples")
    }
}
