// What `llmrec ig` reports about a dataset's catalog: how many training target tokens carry
// no information (IGD down-weights them), how IG falls along the response, and which first
// tokens decide the most and the least.

public struct IGStatistics: Sendable, Codable {
    public struct Position: Sendable, Codable {
        public var position: Int
        public var tokens: Int
        public var meanIG: Double
        public var zeroShare: Double
        enum CodingKeys: String, CodingKey { case position, tokens, meanIG = "mean_ig", zeroShare = "zero_ig_share" }
    }
    public struct FirstToken: Sendable, Codable {
        public var token: Int32
        public var ig: Double
        public var items: Int
    }

    /// Training target tokens (EOS included), and the share of them with zero IG.
    public var targetTokens: Int
    public var zeroShare: Double
    public var byPosition: [Position]
    /// The first tokens of the titles: the children of the opening quote's node (every response
    /// starts with `"`), plus any root child where the tokenizer merged the quote into the title
    /// (e.g. `"'`). Each with its IG from its own parent; most decisive (highest IG) first, and
    /// least decisive first.
    public var mostDecisiveFirst: [FirstToken]
    public var leastDecisiveFirst: [FirstToken]
    public var trieNodes: Int
    public var items: Int

    enum CodingKeys: String, CodingKey {
        case targetTokens = "target_tokens", zeroShare = "zero_ig_share", byPosition = "by_position"
        case mostDecisiveFirst = "most_decisive_first_tokens", leastDecisiveFirst = "least_decisive_first_tokens"
        case trieNodes = "trie_nodes", items
    }

    /// - Parameter targets: the item of each training sample.
    public init(_ ig: InformationGain, targets: [Int], top: Int = 10) {
        var total = 0, zero = 0
        var sums: [Double] = [], counts: [Int] = [], zeros: [Int] = []
        let perItem = (0..<ig.trie.sequences.count).map { ig.gains(ofItem: $0) }
        for t in targets {
            for (k, g) in perItem[t].enumerated() {
                if k == sums.count { sums.append(0); counts.append(0); zeros.append(0) }
                sums[k] += g
                counts[k] += 1
                total += 1
                if InformationGain.isZero(g) { zeros[k] += 1; zero += 1 }
            }
        }
        targetTokens = total
        zeroShare = total > 0 ? Double(zero) / Double(total) : 0
        byPosition = sums.indices.map {
            Position(position: $0, tokens: counts[$0], meanIG: sums[$0] / Double(counts[$0]), zeroShare: Double(zeros[$0]) / Double(counts[$0]))
        }
        let trie = ig.trie
        let root = TokenTrie.root
        let rootChildren = trie.validTokens(root).map { ($0, trie.child(root, $0)!) }
        let quote = rootChildren.max { trie.itemsBelow[Int($0.1)] < trie.itemsBelow[Int($1.1)] }
        var first: [FirstToken] = []
        for (t, node) in rootChildren {
            if let quote, node == quote.1, trie.childCount[Int(node)] > 1 {
                for u in trie.validTokens(node) {
                    first.append(FirstToken(token: u, ig: ig.gain(from: node, token: u),
                                            items: Int(trie.itemsBelow[Int(trie.child(node, u)!)])))
                }
            } else {
                first.append(FirstToken(token: t, ig: ig.gain(from: root, token: t), items: Int(trie.itemsBelow[Int(node)])))
            }
        }
        // Ties by token id, so the report is stable.
        mostDecisiveFirst = Array(first.sorted { $0.ig != $1.ig ? $0.ig > $1.ig : $0.token < $1.token }.prefix(top))
        leastDecisiveFirst = Array(first.sorted { $0.ig != $1.ig ? $0.ig < $1.ig : $0.token < $1.token }.prefix(top))
        trieNodes = ig.trie.nodeCount
        items = ig.trie.sequences.count
    }
}
