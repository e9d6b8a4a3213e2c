// `llmrec compare`: two evaluations of the same samples, with paired bootstrap intervals.
import ArgumentParser
import Evaluation
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two evaluations of the same samples with paired bootstrap confidence intervals.",
        discussion: """
            A and B are files written by `llmrec eval --out` on the same split. For each K, prints the \
            mean NDCG@K and HR@K of both, the difference B − A, and its 95% interval from a paired \
            bootstrap over the samples (the same resampled samples for both sides). An interval that \
            excludes 0 is a difference the samples support. Then how alike the lists are at the largest \
            K: the share of A's top-K items that B's top K also holds (mean and lowest), and how many \
            lists are identical in order.

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

    /// (user, target) → (rank or nil, ranked items), in file order.
    static func read(_ path: String) throws -> [(key: String, rank: Int?, items: [Int])] {
        do {
            return try EvaluationFile.read(path).map { ("\($0.user)\u{1}\($0.target)", $0.rank, $0.items) }
        } catch let e as EvaluationFile.ReadError {
            throw CommandFailure(e.description)
        }
    }

    func run() throws {
        let ra = try Self.read(a), rb = try Self.read(b)
        let byKey = Dictionary(rb.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        guard ra.count == rb.count, ra.allSatisfy({ byKey[$0.key] != nil }) else {
            throw CommandFailure("\(a) and \(b) do not hold the same samples (\(ra.count) and \(rb.count) lines); evaluate both on the same split and --max-users.")
        }
        let ks = k.split(separator: ",").compactMap { Int($0) }
        let shortest = min(ra.map(\.items.count).min()!, rb.map(\.items.count).min()!)
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
        // How alike the lists are, beyond the metrics: what a change of precision or decoder does.
        let top = ks.max()!
        let alike = Self.agreement(ra.map(\.items), ra.map { byKey[$0.key]!.items }, top: top)
        print(String(format: "top-%d lists: %.1f%% of items in both on average, %.0f%% in the least alike; %d of %d identical in order",
                     top, 100 * alike.meanShared, 100 * alike.leastShared, alike.identical, ra.count))
    }

    /// For lists paired by index: the share of a's top K that b's top K holds (mean over the
    /// pairs, and the lowest), and how many pairs agree item for item in order.
    static func agreement(_ a: [[Int]], _ b: [[Int]], top: Int) -> (meanShared: Double, leastShared: Double, identical: Int) {
        let shared = zip(a, b).map { x, y in
            let other = Set(y.prefix(top))
            return Double(x.prefix(top).filter(other.contains).count) / Double(top)
        }
        let identical = zip(a, b).count { $0.prefix(top) == $1.prefix(top) }
        return (shared.reduce(0, +) / Double(max(shared.count, 1)), shared.min() ?? 1, identical)
    }
}
