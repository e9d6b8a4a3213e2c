// Byte-pair encoding of one pre-tokenized piece: start from the byte-level symbols and
// repeatedly merge the adjacent pair of lowest merge rank, the leftmost one on ties, as
// HF tokenizers' models/bpe/word.rs does. Pieces repeat a lot, so results are cached.
import Synchronization

struct BPEModel: Sendable {
    /// Symbol → id, and id → symbol.
    let vocab: [String: Int32]
    let tokens: [String]
    /// (left id, right id) → (rank, merged id).
    let merges: [UInt64: Merge]
    /// Llama-3 tokenizers take a piece that is itself in the vocabulary as one token, before merging.
    let ignoreMerges: Bool
    /// Id of each byte's symbol, -1 where the vocabulary has none (SmolLM2 lacks bytes that never
    /// occur in UTF-8, such as 0xF5–0xFF); such symbols are dropped, as HF does without an unknown token.
    let byteIDs: [Int32]

    struct Merge: Sendable { let rank: Int32; let merged: Int32 }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// - Parameter mergePairs: merges in rank order, as symbol pairs; pairs naming unknown symbols are skipped, as HF does for absent merged tokens.
    init(tokens: [String], mergePairs: [(String, String)], ignoreMerges: Bool) {
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where vocab[t] == nil { vocab[t] = Int32(i) }
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(mergePairs.count)
        for (rank, (a, b)) in mergePairs.enumerated() {
            guard let ia = vocab[a], let ib = vocab[b], let m = vocab[a + b] else { continue }
            let k = Self.key(ia, ib)
            if merges[k] == nil { merges[k] = Merge(rank: Int32(rank), merged: m) }
        }
        let byteIDs = (0..<256).map { vocab[String(ByteLevel.byteToScalar[$0])] ?? -1 }
        self.vocab = vocab
        self.tokens = tokens
        self.merges = merges
        self.ignoreMerges = ignoreMerges
        self.byteIDs = byteIDs
    }

    /// The ids of one piece given as UTF-8 bytes.
    func encode(_ bytes: ArraySlice<UInt8>, into out: inout [Int32]) {
        if ignoreMerges, let whole = vocab[ByteLevel.encode(bytes)] {
            out.append(whole)
            return
        }
        var ids = bytes.compactMap { byteIDs[Int($0)] >= 0 ? byteIDs[Int($0)] : nil }
        while ids.count > 1 {
            var bestRank = Int32.max, bestPos = -1, merged: Int32 = 0
            for p in 0..<(ids.count - 1) {
                if let m = merges[Self.key(ids[p], ids[p + 1])], m.rank < bestRank {
                    bestRank = m.rank
                    bestPos = p
                    merged = m.merged
                }
            }
            if bestPos < 0 { break }
            ids[bestPos] = merged
            ids.remove(at: bestPos + 1)
        }
        out.append(contentsOf: ids)
    }
}

/// A bounded cache of piece → ids, shared by all threads using one tokenizer.
final class PieceCache: Sendable {
    private let entries = Mutex<[String: [Int32]]>([:])
    private let limit = 200_000

    func get(_ piece: String) -> [Int32]? { entries.withLock { $0[piece] } }

    func put(_ piece: String, _ ids: [Int32]) {
        entries.withLock {
            if $0.count >= limit { $0.removeAll(keepingCapacity: true) }
            $0[piece] = ids
        }
    }
}
