// Information gain of each token over the item trie, as IGD defines it (arXiv 2506.13229,
// "Information Gain-based Decisiveness-aware Token handling"; docs/DESIGN.md):
//   p_i  = (times item i is a training target) / (training samples)   (0 if never a target)
//   H(n) = Σ_{i under n} −p_i · ln p_i
//   IG(token moving prefix n to child c) = H(n) − H(c);  the EOS token's IG is 0 by definition.
// A token is zero-IG ("non-decisive") when IG ≤ 1e-12, e.g. the only child of its parent.
import Foundation

public struct InformationGain: Sendable {
    public static let zeroThreshold = 1e-12

    public let trie: TokenTrie
    public let eosTokenID: Int32
    /// p_i per item.
    public let probabilities: [Double]
    /// H(n) per node.
    public let nodeEntropy: [Double]

    /// - Parameter targetCounts: per item, how many training samples have it as their target.
    public init(trie: TokenTrie, targetCounts: [Int], eosTokenID: Int32) {
        precondition(targetCounts.count == trie.sequences.count, "one count per item")
        self.trie = trie
        self.eosTokenID = eosTokenID
        let total = Double(targetCounts.reduce(0, +))
        probabilities = targetCounts.map { total > 0 ? Double($0) / total : 0 }
        // H(n) = sum over the items below n: accumulate each item's term along its path.
        var h = [Double](repeating: 0, count: trie.nodeCount)
        for (i, p) in probabilities.enumerated() where p > 0 {
            let term = -p * log(p)
            var node = TokenTrie.root
            h[Int(node)] += term
            for t in trie.sequences[i] {
                node = trie.child(node, t)!
                h[Int(node)] += term
            }
        }
        nodeEntropy = h
    }

    /// IG of following `token` from `node` (0 for EOS).
    public func gain(from node: Int32, token: Int32) -> Double {
        guard token != eosTokenID, let c = trie.child(node, token) else { return 0 }
        return nodeEntropy[Int(node)] - nodeEntropy[Int(c)]
    }

    /// IG of each token of item `i`'s sequence.
    public func gains(ofItem i: Int) -> [Double] {
        let seq = trie.sequences[i]
        var node = TokenTrie.root
        var out: [Double] = []
        out.reserveCapacity(seq.count)
        for t in seq {
            out.append(gain(from: node, token: t))
            node = trie.child(node, t) ?? node
        }
        return out
    }

    public static func isZero(_ ig: Double) -> Bool { ig <= zeroThreshold }
}
