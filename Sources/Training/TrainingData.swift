// Training examples on a tokenized catalog. In the window format (docs/DESIGN.md, "Samples and
// prompts") an example is one sample: its prompt (tokenized when its batch is built: the prompts
// are long and most runs see only part of them) followed by its target item's response tokens. In
// the sequence format ("Sequence training") an example is a chunk of a user's chain of training
// items: the sequence header, a few items of context, then targets, each its response tokens, with
// the loss on every target. Batches group examples of similar length to limit padding-free but
// uneven work, in an order fixed by the seed and the epoch, so a resumed run sees the same batches.
import CatalogIndex
import Foundation
import ItemIndex
import RecData
import Support

public struct TrainingExample: Sendable {
    /// Items before the first target, oldest first: context only.
    public var history: [Int]
    /// The items the loss teaches, in order: a window's one target, or a sequence chunk's.
    public var targets: [Int]
    /// Characters of the prompt (windows) or tokens of the row (sequences): a cheap stand-in for
    /// its token count when grouping by length.
    public var lengthHint: Int

    /// A window's target (a chunk's last).
    public var item: Int { targets[targets.count - 1] }
}

public struct TrainingCorpus: Sendable {
    /// Response sequences, trie, IG and prompts (in the corpus's format).
    public let catalog: TokenizedCatalog
    public var format: SampleFormat { catalog.format }
    public let train: [TrainingExample]
    public let valid: [TrainingExample]

    /// Where validation samples come from when the dataset has no validation split, in words.
    public private(set) var validationSource: String?

    /// The whole training split and the first `maxValid` validation samples of the catalog's
    /// dataset. A dataset without a validation split (ready-made sample files published without
    /// one) validates on the last `maxValid` training samples (at most a tenth of them), which
    /// are then left out of training; `validationSource` says which.
    public init(catalog: TokenizedCatalog, maxValid: Int, format: SampleFormat = .windows, maxTokens: Int = SequenceChunks.defaultMaxTokens) throws {
        var train = try DatasetReader.samples(.train, of: catalog.dataset)
        var valid = try DatasetReader.samples(.valid, of: catalog.dataset, limit: maxValid)
        var note: String?
        if valid.isEmpty, maxValid > 0, train.count >= 2 {
            let n = min(maxValid, max(1, train.count / 10))
            valid = Array(train.suffix(n))
            train.removeLast(n)
            note = "the dataset has no validation split: validating on the last \(n) training samples (\(train.count + 1)–\(train.count + n) of \(train.count + n)), left out of training"
        }
        self.init(catalog: catalog, train: train, valid: valid, format: format, maxTokens: maxTokens)
        validationSource = note
    }

    /// Training and validation on chosen samples (a study trains on a sample of the split while
    /// the catalog's IG counts targets over all of it). In the sequence format `train` is chained
    /// per user (in the order its split file holds it) and cut into chunks of at most `maxTokens`
    /// tokens; each validation sample stays one example, its history rendered as a sequence.
    public init(catalog: TokenizedCatalog, train: [StoredSample], valid: [StoredSample], format: SampleFormat = .windows,
                maxTokens: Int = SequenceChunks.defaultMaxTokens) {
        let catalog = catalog.formatted(format)
        self.catalog = catalog
        let chunker = SequenceChunks(catalog: catalog, maxTokens: maxTokens)
        func windows(_ samples: [StoredSample]) -> [TrainingExample] {
            samples.map { s in
                let hint = switch format {
                case .windows: s.history.reduce(0) { $0 + catalog.dataset.catalog.titles[$1].count + 4 }
                case .sequences: chunker.tokens(history: s.history, targets: [s.target])
                }
                return TrainingExample(history: s.history, targets: [s.target], lengthHint: hint)
            }
        }
        switch format {
        case .windows:
            self.train = windows(train)
        case .sequences:
            let context = catalog.dataset.manifest.options.historyLength
            self.train = UserSequences.chain(train, historyLength: context).flatMap { chunker.chunks($0, context: context) }
        }
        self.valid = windows(valid)
    }

    public var dataset: PreparedDataset { catalog.dataset }
    public var ig: InformationGain { catalog.ig }

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

    /// `assemble` as one value.
    public func assembled(_ examples: [TrainingExample], atsMinValid: Int = AdaptiveTemperature.smallestDefinedValidSet()) -> AssembledBatch {
        let (sequences, outputs, positions, firsts) = assemble(examples, atsMinValid: atsMinValid)
        return AssembledBatch(sequences: sequences, outputs: outputs, positions: positions, firstScored: firsts)
    }

    /// Token sequences, the output positions of each, and the scored positions, for examples;
    /// with each target's first scored position with at least `atsMinValid` valid tokens (ATS's).
    /// A row is the prompt of the example's history, then each target's response tokens, the last
    /// token dropped (nothing follows it to predict).
    public func assemble(_ examples: [TrainingExample], atsMinValid: Int = AdaptiveTemperature.smallestDefinedValidSet()) -> (sequences: [[Int32]], outputs: [[Int]], positions: [ScoredPosition], firstScored: [Int?]) {
        var sequences: [[Int32]] = [], outputs: [[Int]] = [], positions: [ScoredPosition] = [], firsts: [Int?] = []
        for e in examples {
            var row = catalog.promptTokens(history: e.history)
            var rowOutputs: [Int] = []
            for item in e.targets {
                let response = ig.trie.sequences[item]
                let scored = ig.scoredPositions(ofItem: item)
                // The logits at the token before a response predict its first token, and so on.
                rowOutputs += (row.count - 1)..<(row.count - 1 + response.count)
                firsts.append(scored.firstIndex { $0.valid.count >= atsMinValid }.map { positions.count + $0 })
                positions += scored
                row += response
            }
            row.removeLast()
            sequences.append(row)
            outputs.append(rowOutputs)
        }
        return (sequences, outputs, positions, firsts)
    }

    /// The tokens an example's row holds (its forward pass's length).
    public func tokens(_ e: TrainingExample) -> Int {
        switch format {
        case .windows: catalog.promptTokens(history: e.history).count + e.targets.reduce(0) { $0 + ig.trie.sequences[$1].count } - 1
        case .sequences: e.lengthHint
        }
    }
}
