// A user's chain of training items cut into training examples of at most `maxTokens` tokens
// (docs/DESIGN.md, "Sequence training"). Every target is a target in exactly one chunk; a chunk
// opens with the items before its first target as context (up to `context` of them, so each
// target sees at least min(context, its position) items before it), and a chunk holds at least
// one target even when that one alone is longer than the budget.
import CatalogIndex
import RecData

public struct SequenceChunks {
    public static let defaultMaxTokens = 1024
    /// Below this a chunk could not hold a target and its context.
    public static let smallestMaxTokens = 64

    let catalog: TokenizedCatalog
    let maxTokens: Int
    /// Tokens before the first item: the header, BOS where the tokenizer adds it.
    let headerTokens: Int

    public init(catalog: TokenizedCatalog, maxTokens: Int = SequenceChunks.defaultMaxTokens) {
        self.catalog = catalog
        self.maxTokens = maxTokens
        headerTokens = catalog.formatted(.sequences).promptTokens(history: []).count
    }

    func length(_ item: Int) -> Int { catalog.ig.trie.sequences[item].count }

    /// The row length of an example: header, context and targets, less the last token.
    public func tokens(history: [Int], targets: [Int]) -> Int {
        headerTokens + history.reduce(0) { $0 + length($1) } + targets.reduce(0) { $0 + length($1) } - 1
    }

    /// The chunks of `sequence`, in order.
    public func chunks(_ sequence: UserSequence, context: Int) -> [TrainingExample] {
        let items = sequence.items
        var out: [TrainingExample] = []
        var start = sequence.firstTarget
        while start < items.count {
            let history = Array(items[max(0, start - context)..<start])
            var total = headerTokens + history.reduce(0) { $0 + length($1) } + length(items[start])
            var end = start + 1
            // The row drops the last token, so a chunk of maxTokens + 1 tokens fills maxTokens.
            while end < items.count, total + length(items[end]) <= maxTokens + 1 {
                total += length(items[end])
                end += 1
            }
            out.append(TrainingExample(history: history, targets: Array(items[start..<end]), lengthHint: total - 1))
            start = end
        }
        return out
    }
}
