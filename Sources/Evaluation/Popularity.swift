// The popularity baseline: items ranked by how often they are training targets, the sample's
// own history left out, ties by item index. Every metrics table carries it as a sanity row.

public struct PopularityBaseline: Sendable {
    /// Items, most frequent first.
    let order: [Int]

    public init(targetCounts: [Int]) {
        order = targetCounts.indices.sorted { targetCounts[$0] != targetCounts[$1] ? targetCounts[$0] > targetCounts[$1] : $0 < $1 }
    }

    /// The `k` most popular items not in `history`.
    public func rank(history: [Int], k: Int) -> [Int] {
        let seen = Set(history)
        var out: [Int] = []
        for item in order where !seen.contains(item) {
            out.append(item)
            if out.count == k { break }
        }
        return out
    }
}
