// Evaluation: a loop over the recommender on the test (or valid) samples, in batches of users
// (so matrix products stay large), one record per sample for later analysis, and the
// popularity baseline on the same samples.
import Decoding
import Foundation
import RecData

public final class Evaluator {
    public let recommender: Recommender

    public init(recommender: Recommender) {
        self.recommender = recommender
    }

    /// Rankings for `samples`, `batch` users per beam search; `progress(done)` after each batch.
    public func run(_ samples: [StoredSample], options: DecodingOptions, batch: Int, progress: (Int) -> Void) throws -> [EvaluationRecord] {
        var out: [EvaluationRecord] = []
        out.reserveCapacity(samples.count)
        for start in stride(from: 0, to: samples.count, by: max(batch, 1)) {
            let chunk = Array(samples[start..<min(samples.count, start + batch)])
            for (s, r) in zip(chunk, try recommender.recommend(chunk.map(\.history), options: options)) {
                let items = r.items.map(\.item)
                out.append(EvaluationRecord(user: s.user, target: s.target, items: items, scores: r.items.map(\.score),
                                            rank: RankingMetrics.rank(of: s.target, in: items), droppedHistory: r.droppedHistory))
            }
            progress(out.count)
        }
        return out
    }

    /// The popularity baseline on the same samples (training-target frequency, history excluded).
    public static func popularity(_ samples: [StoredSample], targetCounts counts: [Int], count: Int) -> [EvaluationRecord] {
        let baseline = PopularityBaseline(targetCounts: counts)
        return samples.map { s in
            let items = baseline.rank(history: s.history, k: count)
            return EvaluationRecord(user: s.user, target: s.target, items: items, scores: items.map { Double(counts[$0]) },
                                    rank: RankingMetrics.rank(of: s.target, in: items), droppedHistory: 0)
        }
    }
}
