// Training examples on a tokenized catalog: each sample's prompt (tokenized when its batch is
// built: the prompts are long and most runs see only part of them) followed by its target
// item's response tokens. Batches group samples of similar length to limit padding-free but
// uneven work, in an order fixed by the seed and the epoch, so a resumed run sees the same batches.
import CatalogIndex
import Foundation
import ItemIndex
import RecData
import Support

public struct TrainingExample: Sendable {
    public var history: [Int]
    public var item: Int
    /// Characters of the prompt: a cheap stand-in for its token count when grouping by length.
    public var lengthHint: Int
}

public struct TrainingCorpus: Sendable {
    /// Response sequences, trie, IG and prompts.
    public let catalog: TokenizedCatalog
    public let train: [TrainingExample]
    public let valid: [TrainingExample]

    /// Where validation samples come from when the dataset has no validation split, in words.
    public private(set) var validationSource: String?

    /// The whole training split and the first `maxValid` validation samples of the catalog's
    /// dataset. A dataset without a validation split (ready-made sample files published without
    /// one) validates on the last `maxValid` training samples (at most a tenth of them), which
    /// are then left out of training; `validationSource` says which.
    public init(catalog: TokenizedCatalog, maxValid: Int) throws {
        var train = try DatasetReader.samples(.train, of: catalog.dataset)
        var valid = try DatasetReader.samples(.valid, of: catalog.dataset, limit: maxValid)
        var note: String?
        if valid.isEmpty, maxValid > 0, train.count >= 2 {
            let n = min(maxValid, max(1, train.count / 10))
            valid = Array(train.suffix(n))
            train.removeLast(n)
            note = "the dataset has no validation split: validating on the last \(n) training samples (\(train.count + 1)–\(train.count + n) of \(train.count + n)), left out of training"
        }
        self.init(catalog: catalog, train: train, valid: valid)
        validationSource = note
    }

    /// Training and validation on chosen samples (a study trains on a sample of the split while
    /// the catalog's IG counts targets over all of it).
    public init(catalog: TokenizedCatalog, train: [StoredSample], valid: [StoredSample]) {
        self.catalog = catalog
        func examples(_ samples: [StoredSample]) -> [TrainingExample] {
            samples.map { s in
                TrainingExample(history: s.history, item: s.target,
                                lengthHint: s.history.reduce(0) { $0 + catalog.dataset.catalog.titles[$1].count + 4 })
            }
        }
        self.train = examples(train)
        self.valid = examples(valid)
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
    /// with each example's first scored position with at least `atsMinValid` valid tokens (ATS's).
    public func assemble(_ examples: [TrainingExample], atsMinValid: Int = AdaptiveTemperature.smallestDefinedValidSet()) -> (sequences: [[Int32]], outputs: [[Int]], positions: [ScoredPosition], firstScored: [Int?]) {
        var sequences: [[Int32]] = [], outputs: [[Int]] = [], positions: [ScoredPosition] = [], firsts: [Int?] = []
        for e in examples {
            let prompt = catalog.promptTokens(history: e.history)
            let response = ig.trie.sequences[e.item]
            let scored = ig.scoredPositions(ofItem: e.item)
            // The logits at the last prompt token predict the first response token, and so on.
            sequences.append(prompt + response.dropLast())
            outputs.append(Array((prompt.count - 1)..<(prompt.count - 1 + response.count)))
            firsts.append(scored.firstIndex { $0.valid.count >= atsMinValid }.map { positions.count + $0 })
            positions += scored
        }
        return (sequences, outputs, positions, firsts)
    }
}
