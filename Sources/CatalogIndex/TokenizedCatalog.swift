// The catalog as a model sees it: each item's response tokens (the quoted title, tokenized on
// its own as in training, then EOS), the trie they form with each token's information gain
// (IGD, arXiv 2506.13229: item probabilities from training-target counts), the prompt
// tokens of a history, the instruction header every prompt shares, and a history cut to fit
// the model's context. Training, decoding, evaluation, serving and `llmrec ig` all stand on it;
// it needs a prepared dataset and a tokenizer, not a model.
import Foundation
import ItemIndex
import RecData
import Tokenizers

public struct TokenizedCatalog: Sendable {
    public let dataset: PreparedDataset
    public let tokenizer: BPETokenizer
    /// The trie of response sequences and each token's IG.
    public let ig: InformationGain
    /// How often each catalog item is a training target (IG's weights, the popularity baseline).
    public let targetCounts: [Int]
    /// How prompts render a history: the instruction prompt (windows) or the sequence header
    /// followed by each item's response tokens (sequences); a run's models are prompted in the
    /// format they were trained in.
    public var format = SampleFormat.windows
    /// The sequence header's tokens (without BOS).
    public let sequenceHeaderTokens: [Int32]

    /// With IG from `targetCounts` (a study counts over the whole training split even when it
    /// trains on a sample of it).
    public init(dataset: PreparedDataset, tokenizer: BPETokenizer, targetCounts: [Int]) throws {
        precondition(targetCounts.count == dataset.catalog.count, "one count per catalog item")
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.targetCounts = targetCounts
        let trie = try TokenTrie(sequences: Self.responseSequences(dataset, tokenizer: tokenizer))
        ig = InformationGain(trie: trie, targetCounts: targetCounts, eosTokenID: tokenizer.eosTokenID)
        sequenceHeaderTokens = tokenizer.encode(dataset.manifest.prompt.sequenceHeader)
    }

    /// With IG from the dataset's training split.
    public init(dataset: PreparedDataset, tokenizer: BPETokenizer) throws {
        try self.init(dataset: dataset, tokenizer: tokenizer, targetCounts: DatasetReader.targetCounts(.train, of: dataset))
    }

    public var catalog: Catalog { dataset.catalog }

    /// The response token ids of every catalog item: the quoted title, tokenized on its own as in
    /// training, then EOS — the sequences the item trie holds.
    public static func responseSequences(_ dataset: PreparedDataset, tokenizer: BPETokenizer) -> [[Int32]] {
        dataset.catalog.titles.map { tokenizer.encode(dataset.manifest.prompt.response(title: $0)) + [tokenizer.eosTokenID] }
    }

    /// This catalog prompting in `format`.
    public func formatted(_ format: SampleFormat) -> TokenizedCatalog {
        var copy = self
        copy.format = format
        return copy
    }

    /// The prompt's token ids for a history of item indices (BOS first where the model wants it).
    /// In the sequence format each item is exactly its trie path, joined as token ids (never
    /// re-tokenized as text), so training, IG, MSL's valid sets and the trie agree token for token.
    public func promptTokens(history: [Int]) -> [Int32] {
        var prompt: [Int32]
        switch format {
        case .windows:
            prompt = tokenizer.encode(dataset.manifest.prompt.prompt(history: history.map { dataset.catalog.titles[$0] }))
        case .sequences:
            prompt = sequenceHeaderTokens
            for item in history { prompt += ig.trie.sequences[item] }
        }
        if tokenizer.addsBOS, let bos = tokenizer.bosTokenID { prompt.insert(bos, at: 0) }
        return prompt
    }

    /// The prompt of a history with its oldest items dropped until it fits in `limit` tokens.
    public func promptTokens(history: [Int], limit: Int) -> (tokens: [Int32], dropped: Int) {
        var h = history
        var tokens = promptTokens(history: h)
        while tokens.count > limit, !h.isEmpty {
            h.removeFirst()
            tokens = promptTokens(history: h)
        }
        return (tokens, history.count - h.count)
    }

    /// Tokens that prompts begin with: the longest common prefix of the prompts of single-item
    /// histories over the first items of the catalog (the instruction header, up to where titles
    /// start). A prompt that does not begin with it is still correct, only not shortened.
    public var sharedPromptPrefix: [Int32] {
        let items = min(dataset.catalog.count, 16)
        guard items >= 2 else { return [] }
        var prefix = promptTokens(history: [0])
        for i in 1..<items {
            let p = promptTokens(history: [i])
            let n = zip(prefix, p).prefix { $0 == $1 }.count
            prefix.removeLast(prefix.count - n)
        }
        return prefix
    }
}
