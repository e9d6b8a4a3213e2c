// Training examples from a prepared dataset: each sample's prompt (tokenized when its batch is
// built: the prompts are long and most runs see only part of them) followed by its target
// item's response tokens. Batches group samples of similar length to limit padding-free but
// uneven work, in an order fixed by the seed and the epoch, so a resumed run sees the same batches.
import Foundation
import ItemIndex
import RecData
import Support
import Tokenizers

public struct TrainingExample: Sendable {
    public var history: [Int]
    public var item: Int
    /// Characters of the prompt: a cheap stand-in for its token count when grouping by length.
    public var lengthHint: Int
}

public struct TrainingCorpus: Sendable {
    public let dataset: PreparedDataset
    public let tokenizer: BPETokenizer
    public let ig: InformationGain
    public let train: [TrainingExample]
    public let valid: [TrainingExample]

    /// How often each catalog item is a training target (IG's and the popularity baseline's counts).
    public let targetCounts: [Int]

    /// `trainExamples: false` leaves `train` empty and only counts the training targets: all
    /// that decoding, evaluation and serving need, and much quicker to read.
    public init(dataset: PreparedDataset, tokenizer: BPETokenizer, maxValid: Int, trainExamples: Bool = true) throws {
        let valid = try DatasetReader.samples(.valid, of: dataset, limit: maxValid)
        if trainExamples {
            let train = try DatasetReader.samples(.train, of: dataset)
            var counts = [Int](repeating: 0, count: dataset.catalog.count)
            for s in train { counts[s.target] += 1 }
            try self.init(dataset: dataset, tokenizer: tokenizer, train: train, valid: valid, targetCounts: counts)
        } else {
            try self.init(dataset: dataset, tokenizer: tokenizer, train: [], valid: valid,
                          targetCounts: DatasetReader.targetCounts(.train, of: dataset))
        }
    }

    /// Training and validation on chosen samples, with IG and popularity from `targetCounts`
    /// (a study trains on a sample of the training split but counts targets over all of it,
    /// as training on the whole split would).
    public init(dataset: PreparedDataset, tokenizer: BPETokenizer, train: [StoredSample], valid: [StoredSample], targetCounts: [Int]) throws {
        precondition(targetCounts.count == dataset.catalog.count, "one count per catalog item")
        self.dataset = dataset
        self.tokenizer = tokenizer
        let trie = try TokenTrie(sequences: Self.responseSequences(dataset, tokenizer: tokenizer))
        func examples(_ samples: [StoredSample]) -> [TrainingExample] {
            samples.map { s in
                TrainingExample(history: s.history, item: s.target,
                                lengthHint: s.history.reduce(0) { $0 + dataset.catalog.titles[$1].count + 4 })
            }
        }
        self.train = examples(train)
        self.valid = examples(valid)
        self.targetCounts = targetCounts
        ig = InformationGain(trie: trie, targetCounts: targetCounts, eosTokenID: tokenizer.eosTokenID)
    }

    /// The response token ids of every catalog item: the quoted title, tokenized on its own as in
    /// training, then EOS — the sequences the item trie holds.
    public static func responseSequences(_ dataset: PreparedDataset, tokenizer: BPETokenizer) -> [[Int32]] {
        dataset.catalog.titles.map { tokenizer.encode(dataset.manifest.prompt.response(title: $0)) + [tokenizer.eosTokenID] }
    }

    /// The batches of one epoch: indices into `train`, shuffled with (seed, epoch), grouped by length.
    public func batches(epoch: Int, batchSize: Int, seed: UInt64) -> [[Int]] {
        var rng = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        var order = Array(train.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        // Sort within windows of 32 batches, then shuffle the batches.
        let window = 32 * batchSize
        var batches: [[Int]] = []
        for start in stride(from: 0, to: order.count, by: window) {
            let chunk = order[start..<min(order.count, start + window)].sorted { train[$0].lengthHint < train[$1].lengthHint }
            for b in stride(from: 0, to: chunk.count, by: batchSize) {
                batches.append(Array(chunk[(chunk.startIndex + b)..<min(chunk.endIndex, chunk.startIndex + b + batchSize)]))
            }
        }
        for i in stride(from: batches.count - 1, to: 0, by: -1) { batches.swapAt(i, rng.below(i + 1)) }
        return batches
    }

    /// The prompt's token ids for a history of item indices (BOS first where the model wants it).
    public func promptTokens(history: [Int]) -> [Int32] {
        var prompt = tokenizer.encode(dataset.manifest.prompt.prompt(history: history.map { dataset.catalog.titles[$0] }))
        if tokenizer.addsBOS, let bos = tokenizer.bosTokenID { prompt.insert(bos, at: 0) }
        return prompt
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

    /// Token sequences, the output positions of each, and the scored positions, for examples.
    public func assemble(_ examples: [TrainingExample]) -> (sequences: [[Int32]], outputs: [[Int]], positions: [ScoredPosition], firstScored: [Int?]) {
        var sequences: [[Int32]] = [], outputs: [[Int]] = [], positions: [ScoredPosition] = [], firsts: [Int?] = []
        for e in examples {
            let prompt = promptTokens(history: e.history)
            let response = ig.trie.sequences[e.item]
            let scored = ig.scoredPositions(ofItem: e.item)
            // The logits at the last prompt token predict the first response token, and so on.
            sequences.append(prompt + response.dropLast())
            outputs.append(Array((prompt.count - 1)..<(prompt.count - 1 + response.count)))
            firsts.append(scored.firstIndex { $0.valid.count > 1 }.map { positions.count + $0 })
            positions += scored
        }
        return (sequences, outputs, positions, firsts)
    }
}
