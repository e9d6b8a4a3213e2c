// Recommendations for histories of catalog items: what `llmrec recommend` and `llmrec serve`
// share, so that the server answers exactly what the command prints. Several histories decode
// as one batched beam search.
import CausalLM
import Decoding
import Foundation
import RecData
import Tokenizers
import Training

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

    /// Rankings for several histories (catalog items, oldest first), decoded together.
    public func recommend(_ histories: [[Int]], options: DecodingOptions) throws -> [Recommendation] {
        try evaluator.recommend(histories, options: options)
    }
}
