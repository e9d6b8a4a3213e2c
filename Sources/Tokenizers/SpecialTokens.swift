// Added tokens (special ones such as <|im_start|>, and user-defined ones) are found in the
// raw text before pre-tokenization, longest match first, and become their own ids, as
// HF tokenizers' added_vocabulary.rs does for tokens that are not normalised or stripped.

struct AddedTokens: Sendable {
    let contents: [String]
    let ids: [Int32]
    let isSpecial: [Bool]
    /// id → token index.
    let indexOfID: [Int32: Int]
    /// Byte trie: node → (byte → child), and the token index ending at a node (-1 for none).
    private let children: [[UInt8: Int32]]
    private let terminal: [Int32]

    init(_ tokens: [(content: String, id: Int32, special: Bool)]) {
        var children: [[UInt8: Int32]] = [[:]]
        var terminal: [Int32] = [-1]
        for (k, t) in tokens.enumerated() where !t.content.isEmpty {
            var node = 0
            for b in t.content.utf8 {
                if let next = children[node][b] {
                    node = Int(next)
                } else {
                    children.append([:])
                    terminal.append(-1)
                    children[node][b] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            terminal[node] = Int32(k)
        }
        self.children = children
        self.terminal = terminal
        contents = tokens.map(\.content)
        ids = tokens.map(\.id)
        isSpecial = tokens.map(\.special)
        indexOfID = Dictionary(tokens.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    var isEmpty: Bool { contents.isEmpty }

    /// The longest added token starting at `i`: (token index, length in bytes).
    func match(_ bytes: [UInt8], at i: Int) -> (Int, Int)? {
        var node = 0
        var best: (Int, Int)?
        var j = i
        while j < bytes.count, let next = children[node][bytes[j]] {
            node = Int(next)
            j += 1
            if terminal[node] >= 0 { best = (Int(terminal[node]), j - i) }
        }
        return best
    }
}
