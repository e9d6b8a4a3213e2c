// History → ranked catalog items: a model and a tokenized catalog under constrained beam
// search. What `llmrec recommend`, `llmrec serve` and evaluation share, so that the server
// answers exactly what the command prints and what `eval` measures. Several histories decode as
// one batched search. The path of a request: recommender → beam search → step scorer.
import CatalogIndex
import CausalLM
import Foundation
import Kernels
import RecData

/// One history's ranking.
public struct Recommendation: Sendable, Equatable {
    public var items: [ScoredItem]
    /// History items left out (oldest first) so that the prompt fits the model's context.
    public var droppedHistory: Int
}

public final class Recommender: @unchecked Sendable {
    /// The catalog's tokens, trie, IG and prompts.
    public let tokenized: TokenizedCatalog
    public let search: ConstrainedBeamSearch
    /// What the model is, for logs and responses (a run's name and checkpoint, or the model path).
    public let name: String

    /// `passes`: where the model's passes run; default the CPU's, in `precision`.
    public init(model: DecoderModel, catalog: TokenizedCatalog, name: String = "", precision: Precision = .fp32, passes: BeamPasses? = nil) {
        tokenized = catalog
        self.name = name
        let passes = passes ?? CPUBeamPasses(model: model, sharedPrefix: catalog.sharedPromptPrefix, precision: precision)
        search = ConstrainedBeamSearch(model: model, ig: catalog.ig, passes: passes)
    }

    public var dataset: PreparedDataset { tokenized.dataset }
    public var catalog: Catalog { tokenized.catalog }

    /// The prompt of a history, with the oldest items dropped until it and the longest response fit.
    public func prompt(history: [Int]) -> (tokens: [Int32], dropped: Int) {
        tokenized.promptTokens(history: history, limit: search.model.config.maxPositions - search.depth)
    }

    /// Rankings for several histories (catalog items, oldest first), decoded together.
    public func recommend(_ histories: [[Int]], options: DecodingOptions) throws -> [Recommendation] {
        let prompts = histories.map { prompt(history: $0) }
        let lists = try search.recommend(prompts.map(\.tokens), options: options)
        return zip(lists, prompts).map { Recommendation(items: $0, droppedHistory: $1.dropped) }
    }
}
