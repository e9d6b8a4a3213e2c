// Evaluation: the test (or valid) samples' prompts, constrained beam search in batches of users
// (so matrix products stay large), and one record per sample for later analysis. The trie and
// the IG used by IGD decoding come from the dataset exactly as in training.
import CausalLM
import Decoding
import Foundation
import RecData
import Training

/// One evaluated sample: its ranking and where the target landed.
public struct EvaluationRecord: Sendable, Codable, Equatable {
    public var user: String
    public var target: Int
    public var items: [Int]
    public var scores: [Double]
    /// The target's rank from 0, or nil when it is not in the list.
    public var rank: Int?
    /// History items dropped (oldest first) so that the prompt fits the model's context.
    public var droppedHistory: Int
}

/// One history's ranking.
public struct Recommendation: Sendable, Equatable {
    public var items: [ScoredItem]
    /// History items left out (oldest first) so that the prompt fits the model's context.
    public var droppedHistory: Int
}

public final class Evaluator {
    public let corpus: TrainingCorpus
    public let search: ConstrainedBeamSearch

    public init(model: DecoderModel, corpus: TrainingCorpus) {
        self.corpus = corpus
        search = ConstrainedBeamSearch(model: model, ig: corpus.ig, sharedPrefix: corpus.sharedPromptPrefix)
    }

    /// The prompt of a history, with the oldest items dropped until it and the longest response fit.
    public func prompt(history: [Int]) -> (tokens: [Int32], dropped: Int) {
        let limit = search.model.config.maxPositions - search.depth
        var h = history
        var tokens = corpus.promptTokens(history: h)
        while tokens.count > limit, !h.isEmpty {
            h.removeFirst()
            tokens = corpus.promptTokens(history: h)
        }
        return (tokens, history.count - h.count)
    }

    /// Rankings for histories (catalog items, oldest first), decoded as one batch.
    public func recommend(_ histories: [[Int]], options: DecodingOptions) throws -> [Recommendation] {
        let prompts = histories.map { prompt(history: $0) }
        let lists = try search.recommend(prompts.map(\.tokens), options: options)
        return zip(lists, prompts).map { Recommendation(items: $0, droppedHistory: $1.dropped) }
    }

    /// Rankings for `samples`, `batch` users per beam search; `progress(done)` after each batch.
    public func run(_ samples: [StoredSample], options: DecodingOptions, batch: Int, progress: (Int) -> Void) throws -> [EvaluationRecord] {
        var out: [EvaluationRecord] = []
        out.reserveCapacity(samples.count)
        for start in stride(from: 0, to: samples.count, by: max(batch, 1)) {
            let chunk = Array(samples[start..<min(samples.count, start + batch)])
            for (s, r) in zip(chunk, try recommend(chunk.map(\.history), options: options)) {
                let items = r.items.map(\.item)
                out.append(EvaluationRecord(user: s.user, target: s.target, items: items, scores: r.items.map(\.score),
                                            rank: RankingMetrics.rank(of: s.target, in: items), droppedHistory: r.droppedHistory))
            }
            progress(out.count)
        }
        return out
    }

    /// The popularity baseline on the same samples (training-target frequency, history excluded).
    public static func popularity(_ samples: [StoredSample], corpus: TrainingCorpus, count: Int) -> [EvaluationRecord] {
        let counts = corpus.targetCounts
        let baseline = PopularityBaseline(targetCounts: counts)
        return samples.map { s in
            let items = baseline.rank(history: s.history, k: count)
            return EvaluationRecord(user: s.user, target: s.target, items: items, scores: items.map { Double(counts[$0]) },
                                    rank: RankingMetrics.rank(of: s.target, in: items), droppedHistory: 0)
        }
    }
}
