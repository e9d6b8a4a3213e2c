// Each user's items in time order, rebuilt from their samples. `data prepare` writes one sample per
// interaction after a user's first, with up to `history` previous items, and keeps a user's
// samples in time order within each split (the time split is a stable sort; leave-one-out keeps
// them as they come), with a user's train samples before their valid and test ones. So a user's
// samples chain: each history ends with the previous sample's target. Sequence training reads
// the chains of the train split; long-history prompts read the chains of all three.
public struct UserSequence: Sendable, Equatable {
    public var user: String
    /// The items in time order.
    public var items: [Int]
    /// How many leading items are context only (the first sample's history): `items[firstTarget...]`
    /// are the samples' targets, in order.
    public var firstTarget: Int

    public init(user: String, items: [Int], firstTarget: Int) {
        self.user = user
        self.items = items
        self.firstTarget = firstTarget
    }
}

public enum UserSequences {
    /// The chains of `samples` (in the order a split file holds them). A sample whose history is
    /// not the last min(n, `historyLength`) items of its user's chain (a subsampled split) starts a
    /// new chain for that user, from its own history.
    public static func chain(_ samples: [StoredSample], historyLength: Int) -> [UserSequence] {
        chainWithPositions(samples, historyLength: historyLength).sequences
    }

    /// The chains, and for each sample its chain and the index of its target in the chain's items.
    public static func chainWithPositions(_ samples: [StoredSample], historyLength: Int)
        -> (sequences: [UserSequence], positions: [(sequence: Int, index: Int)]) {
        var sequences: [UserSequence] = []
        var open: [String: Int] = [:]
        var positions: [(sequence: Int, index: Int)] = []
        positions.reserveCapacity(samples.count)
        for s in samples {
            if let k = open[s.user], s.history.elementsEqual(sequences[k].items.suffix(min(sequences[k].items.count, historyLength))) {
                sequences[k].items.append(s.target)
            } else {
                open[s.user] = sequences.count
                sequences.append(UserSequence(user: s.user, items: s.history + [s.target], firstTarget: s.history.count))
            }
            let k = open[s.user]!
            positions.append((k, sequences[k].items.count - 1))
        }
        return (sequences, positions)
    }
}

/// Every sample's full history: the items of its user's chain before it, across the splits given
/// (train, then valid, then test), where its stored history holds only the last `historyLength`.
public struct UserHistories: Sendable {
    let sequences: [UserSequence]
    /// Per split given, per sample: its chain and the index of its target there.
    let positions: [[(sequence: Int, index: Int)]]

    /// `splits` in time order (train, valid, test), each as its file holds it.
    public init(splits: [[StoredSample]], historyLength: Int) {
        let chained = UserSequences.chainWithPositions(splits.flatMap { $0 }, historyLength: historyLength)
        sequences = chained.sequences
        var out: [[(sequence: Int, index: Int)]] = []
        var start = 0
        for split in splits {
            out.append(Array(chained.positions[start..<(start + split.count)]))
            start += split.count
        }
        positions = out
    }

    /// Up to `limit` items before sample `index` of split `split` (its position in `splits`), oldest first.
    public func history(split: Int, index: Int, limit: Int) -> [Int] {
        let p = positions[split][index]
        let items = sequences[p.sequence].items
        return Array(items[max(0, p.index - limit)..<p.index])
    }

    /// Sample `index` of split `split` as stored, with up to `limit` items of its whole history.
    public func sample(_ stored: StoredSample, split: Int, index: Int, limit: Int) -> StoredSample {
        var s = stored
        s.history = history(split: split, index: index, limit: limit)
        return s
    }
}
