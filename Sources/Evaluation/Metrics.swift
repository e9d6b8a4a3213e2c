// Ranking metrics (docs/DESIGN.md, as IGD and MSL report them): for each sample the ranked list of distinct
// items; HR@K = 1 when the target is in the top K; NDCG@K = 1 / log2(rank + 2) (rank from 0)
// when it is, else 0; both averaged over samples.
import Foundation

public enum RankingMetrics {
    /// The target's rank (from 0) in `ranked`, or nil.
    public static func rank(of target: Int, in ranked: [Int]) -> Int? { ranked.firstIndex(of: target) }

    public static func hit(rank: Int?, k: Int) -> Double { rank.map { $0 < k ? 1 : 0 } ?? 0 }

    public static func ndcg(rank: Int?, k: Int) -> Double {
        guard let rank, rank < k else { return 0 }
        return 1 / log2(Double(rank) + 2)
    }
}

public struct MetricsSummary: Sendable, Codable, Equatable {
    public var ks: [Int]
    /// HR@K and NDCG@K, in the order of `ks`.
    public var hr: [Double]
    public var ndcg: [Double]
    public var users: Int
    /// Share of returned items that are catalog items (constrained decoding: always 1).
    public var validShare: Double
    /// Share of samples that got a full list of max(ks) items.
    public var fullListShare: Double
    public var seconds: Double

    /// Averages over samples: `ranked[i]` the ranking for the sample whose target is `targets[i]`.
    public init(ranked: [[Int]], targets: [Int], ks: [Int], catalogSize: Int, seconds: Double) {
        self.ks = ks
        users = targets.count
        let n = Double(max(targets.count, 1))
        let ranks = zip(ranked, targets).map { RankingMetrics.rank(of: $1, in: $0) }
        hr = ks.map { k in ranks.reduce(0) { $0 + RankingMetrics.hit(rank: $1, k: k) } / n }
        ndcg = ks.map { k in ranks.reduce(0) { $0 + RankingMetrics.ndcg(rank: $1, k: k) } / n }
        let returned = ranked.reduce(0) { $0 + $1.count }
        let valid = ranked.reduce(0) { $0 + $1.filter { (0..<catalogSize).contains($0) }.count }
        validShare = returned == 0 ? 0 : Double(valid) / Double(returned)
        let want = ks.max() ?? 0
        fullListShare = Double(ranked.filter { $0.count >= want }.count) / n
        self.seconds = seconds
    }
}
