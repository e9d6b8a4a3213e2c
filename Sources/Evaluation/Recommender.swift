// Recommendations for histories of titles: what `llmrec recommend` and `llmrec serve` share, so
// that the server answers exactly what the command prints. Titles resolve to catalog items
// (exact, then ignoring case); unknown ones come back with the closest catalog titles. Several
// histories decode as one batched beam search.
import CausalLM
import Decoding
import Foundation
import RecData
import Tokenizers
import Training

/// A history title that is not in the catalog, with the closest ones.
public struct UnknownTitle: Sendable, Equatable, Codable {
    public var title: String
    public var suggestions: [String]
}

public struct Recommendation: Sendable, Equatable {
    public var items: [ScoredItem]
    /// History items left out (oldest first) so that the prompt fits the model's context.
    public var droppedHistory: Int
}

public final class Recommender: @unchecked Sendable {
    public let dataset: PreparedDataset
    public let evaluator: Evaluator
    /// What the model is, for logs and responses (a run's name and checkpoint, or the model path).
    public let name: String

    public init(model: DecoderModel, tokenizer: BPETokenizer, dataset: PreparedDataset, name: String) throws {
        self.dataset = dataset
        self.name = name
        evaluator = Evaluator(model: model, corpus: try TrainingCorpus(dataset: dataset, tokenizer: tokenizer, maxValid: 0, trainExamples: false))
    }

    public var catalog: Catalog { dataset.catalog }

    /// The catalog items of `titles`, or every title that is not one, with up to 5 suggestions each.
    public func items(titled titles: [String]) -> Result<[Int], UnknownTitlesError> {
        var items: [Int] = [], unknown: [UnknownTitle] = []
        for title in titles {
            if let item = catalog.item(titled: title) {
                items.append(item)
            } else {
                unknown.append(UnknownTitle(title: title, suggestions: catalog.closest(to: title, count: 5).map { catalog.titles[$0] }))
            }
        }
        return unknown.isEmpty ? .success(items) : .failure(UnknownTitlesError(titles: unknown))
    }

    /// Rankings for several histories (catalog items, oldest first), decoded together.
    public func recommend(_ histories: [[Int]], options: DecodingOptions) throws -> [Recommendation] {
        let prompts = histories.map { evaluator.prompt(history: $0) }
        let lists = try evaluator.search.recommend(prompts.map(\.tokens), options: options)
        return zip(lists, prompts).map { Recommendation(items: $0, droppedHistory: $1.dropped) }
    }
}

public struct UnknownTitlesError: Error, Sendable, CustomStringConvertible {
    public var titles: [UnknownTitle]
    public var description: String {
        titles.map { "'\($0.title)' is not a catalog title. Closest titles:\n" + $0.suggestions.map { "  \($0)" }.joined(separator: "\n") }
            .joined(separator: "\n")
    }
}
