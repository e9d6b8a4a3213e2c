// The study's samples: seeded draws without replacement from each split of the prepared
// dataset, kept in draw order. A draw of n is the first n steps of a Fisher–Yates shuffle, so
// the draw of n is the first n of any larger draw with the same seed: doubling the training
// windows keeps the smaller set, and a decoder run on the first 2,000 test windows runs on a
// random subset of the 5,000 (not the earliest in time, as a prefix of the time-sorted split would be).
import Foundation
import RecData
import Support

public struct SampleDraw: Sendable, Equatable, Codable {
    public var seed: UInt64
    /// Indices into the prepared dataset's train, valid and test splits, in draw order.
    public var train: [Int]
    public var valid: [Int]
    public var test: [Int]

    /// Draws `sizes` from splits of `available` samples; each split has its own stream of the seed.
    public init(seed: UInt64, sizes: SplitSizes, available: SplitSizes) {
        self.seed = seed
        train = Self.draw(min(sizes.train, available.train), from: available.train, seed: seed)
        valid = Self.draw(min(sizes.valid, available.valid), from: available.valid, seed: seed &+ 1)
        test = Self.draw(min(sizes.test, available.test), from: available.test, seed: seed &+ 2)
    }

    /// The first `count` positions of a seeded shuffle of 0..<n.
    public static func draw(_ count: Int, from n: Int, seed: UInt64) -> [Int] {
        precondition(count >= 0 && count <= n)
        var rng = SeededGenerator(seed: seed)
        // The swaps of a partial shuffle, kept sparse: only touched positions are stored.
        var moved: [Int: Int] = [:]
        var out: [Int] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let j = i + rng.below(n - i)
            let atJ = moved[j] ?? j, atI = moved[i] ?? i
            out.append(atJ)
            moved[j] = atI
            moved[i] = atJ
        }
        return out
    }

    public struct SplitSizes: Sendable, Equatable {
        public var train: Int, valid: Int, test: Int
        public init(train: Int, valid: Int, test: Int) { self.train = train; self.valid = valid; self.test = test }
    }

    /// The samples at `indices` of a split read whole.
    public static func pick(_ indices: some Collection<Int>, from samples: [StoredSample]) -> [StoredSample] {
        indices.map { samples[$0] }
    }
}
