// The prefix tree of the catalog's response token sequences ("Title" then EOS): each node is
// a prefix, its children the tokens that can follow it in some catalog item. Frozen into flat
// arrays (children of a node contiguous and sorted by token), so the valid next tokens of a
// prefix are one slice — what MSL's masked softmax and constrained decoding need.

public struct TokenTrie: Sendable {
    /// Per node: where its children start in `childTokens`/`childNodes`, and how many.
    public private(set) var childStart: [Int32] = []
    public private(set) var childCount: [Int32] = []
    public private(set) var childTokens: [Int32] = []
    public private(set) var childNodes: [Int32] = []
    /// Per node: the item whose sequence ends there (-1 for inner nodes).
    public private(set) var itemAt: [Int32] = []
    /// Per node: how many items pass through it.
    public private(set) var itemsBelow: [Int32] = []
    /// Per item: its token sequence.
    public let sequences: [[Int32]]

    public static let root: Int32 = 0
    public var nodeCount: Int { childStart.count }

    public enum BuildError: Error, CustomStringConvertible, Equatable {
        case emptySequence(item: Int)
        case duplicateSequence(item: Int, sameAs: Int)
        case prefixOfAnother(item: Int, other: Int)

        public var description: String {
            switch self {
            case .emptySequence(let i): "item \(i) has an empty token sequence"
            case .duplicateSequence(let i, let j): "items \(j) and \(i) have the same token sequence; merge duplicate titles first"
            case .prefixOfAnother(let i, let j): "the tokens of item \(i) are a prefix of item \(j)'s; end every sequence with EOS"
            }
        }
    }

    /// Builds the trie of `sequences` (item i = sequences[i]); each should end with EOS so
    /// that no sequence is a prefix of another.
    public init(sequences: [[Int32]]) throws {
        self.sequences = sequences
        // Build with dictionaries, then freeze.
        var children: [[Int32: Int32]] = [[:]]
        var item: [Int32] = [-1]
        var below: [Int32] = [0]
        for (i, seq) in sequences.enumerated() {
            guard !seq.isEmpty else { throw BuildError.emptySequence(item: i) }
            var node = 0
            below[0] += 1
            for t in seq {
                if item[node] >= 0 { throw BuildError.prefixOfAnother(item: Int(item[node]), other: i) }
                if let next = children[node][t] {
                    node = Int(next)
                } else {
                    children.append([:])
                    item.append(-1)
                    below.append(0)
                    children[node][t] = Int32(children.count - 1)
                    node = children.count - 1
                }
                below[node] += 1
            }
            if item[node] >= 0 { throw BuildError.duplicateSequence(item: i, sameAs: Int(item[node])) }
            if !children[node].isEmpty {
                throw BuildError.prefixOfAnother(item: i, other: Int(firstItem(under: node, children, item)))
            }
            item[node] = Int32(i)
        }
        for c in children {
            childStart.append(Int32(childTokens.count))
            childCount.append(Int32(c.count))
            for (t, n) in c.sorted(by: { $0.key < $1.key }) {
                childTokens.append(t)
                childNodes.append(n)
            }
        }
        itemAt = item
        itemsBelow = below
    }

    private func firstItem(under node: Int, _ children: [[Int32: Int32]], _ item: [Int32]) -> Int32 {
        var n = node
        while item[n] < 0, let next = children[n].values.min() { n = Int(next) }
        return item[n]
    }

    /// The tokens that may follow `node`, sorted.
    public func validTokens(_ node: Int32) -> ArraySlice<Int32> {
        let s = Int(childStart[Int(node)])
        return childTokens[s..<(s + Int(childCount[Int(node)]))]
    }

    /// The child of `node` along `token`, if the catalog has one.
    public func child(_ node: Int32, _ token: Int32) -> Int32? {
        let s = Int(childStart[Int(node)]), n = Int(childCount[Int(node)])
        var lo = s, hi = s + n
        while lo < hi {
            let mid = (lo + hi) / 2
            if childTokens[mid] < token { lo = mid + 1 } else { hi = mid }
        }
        return lo < s + n && childTokens[lo] == token ? childNodes[lo] : nil
    }

    /// The nodes along item `i`'s sequence: path[k] is the prefix before token k (path[0] = root).
    public func path(ofItem i: Int) -> [Int32] {
        var nodes: [Int32] = [Self.root]
        var node = Self.root
        for t in sequences[i].dropLast() {
            node = child(node, t)!
            nodes.append(node)
        }
        return nodes
    }
}
