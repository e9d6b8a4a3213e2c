// Finding catalog items from what a person typed: exact titles first (then the same title in
// any case), and otherwise the closest titles — by substring, then by edit distance — so that
// an unknown title gets a helpful list instead of a bare error.
//
// `TitleIndex` is built once per catalog (the server keeps one), so that a lookup costs a hash
// and a suggestion costs the titles that share its rarest pieces, not every title in the catalog.
import Foundation

public final class TitleIndex: Sendable {
    public let titles: [String]
    /// Lower-cased titles, as unicode scalars (what substring and edit distance compare).
    let lowered: [[Unicode.Scalar]]
    let loweredText: [String]
    let exact: [String: Int]
    let folded: [String: Int]
    /// Each three-scalar piece of a lower-cased title → the titles containing it, ascending;
    /// and how many distinct pieces each title has.
    let trigrams: [UInt64: [Int32]]
    let pieceCounts: [Int]

    /// Characters of typed text compared with titles, and unknown titles that get suggestions:
    /// bounds on what a request full of long unknown titles can cost.
    public static let longestComparedKey = 160, suggestedTitles = 5

    public init(titles: [String]) {
        self.titles = titles
        loweredText = titles.map { $0.lowercased() }
        lowered = loweredText.map { Array($0.unicodeScalars) }
        var exact: [String: Int] = [:], folded: [String: Int] = [:], trigrams: [UInt64: [Int32]] = [:], pieceCounts: [Int] = []
        for (i, title) in titles.enumerated() {
            if exact[title] == nil { exact[title] = i }
            if folded[loweredText[i]] == nil { folded[loweredText[i]] = i }
            let pieces = Set(Self.pieces(lowered[i]))
            pieceCounts.append(pieces.count)
            for piece in pieces { trigrams[piece, default: []].append(Int32(i)) }
        }
        self.pieceCounts = pieceCounts
        self.exact = exact
        self.folded = folded
        self.trigrams = trigrams
    }

    /// The three-scalar pieces of `s`, each packed exactly into 63 bits (a scalar has 21).
    static func pieces(_ s: [Unicode.Scalar]) -> [UInt64] {
        guard s.count >= 3 else { return [] }
        return (0...(s.count - 3)).map { UInt64(s[$0].value) << 42 | UInt64(s[$0 + 1].value) << 21 | UInt64(s[$0 + 2].value) }
    }

    /// The item whose title is `text`, exactly or ignoring case and surrounding spaces.
    public func item(titled text: String) -> Int? {
        exact[text] ?? folded[text.trimmingCharacters(in: .whitespaces).lowercased()]
    }

    /// Up to `count` items whose titles are closest to `text`: titles containing it (shortest
    /// first), then the smallest edit distance between lower-cased titles (ties by id).
    ///
    /// The ranking equals comparing with every title, but computes few edit distances: titles
    /// are visited in order of a lower bound on their distance (length difference, and the
    /// three-letter pieces one has and the other lacks: an edit removes at most three), and the
    /// search stops when the bound passes the last distance kept.
    public func closest(to text: String, count: Int) -> [Int] {
        // Long input is cut for the comparison: its cost grows with the key's length.
        let key = Array(text.trimmingCharacters(in: .whitespaces).lowercased().unicodeScalars.prefix(Self.longestComparedKey))
        guard !key.isEmpty, count > 0 else { return [] }
        let keyPieces = Set(Self.pieces(key))
        // A title containing the key contains each of its pieces: the rarest piece's titles are
        // the only ones to check (every title when the key is shorter than a piece).
        let possible: [Int] = keyPieces.isEmpty ? Array(titles.indices)
            : keyPieces.map { trigrams[$0] ?? [] }.min { $0.count < $1.count }!.map(Int.init)
        let keyText = String(String.UnicodeScalarView(key))
        let containing = possible.filter { loweredText[$0].contains(keyText) }
            .sorted { (loweredText[$0].count, $0) < (loweredText[$1].count, $1) }
        if containing.count >= count { return Array(containing.prefix(count)) }
        let wanted = count - containing.count
        var shared = [Int](repeating: 0, count: titles.count)
        for piece in keyPieces { for title in trigrams[piece] ?? [] { shared[Int(title)] += 1 } }
        let contained = Set(containing)
        let order = titles.indices.filter { !contained.contains($0) }.map { i in
            let missing = max(keyPieces.count, pieceCounts[i]) - shared[i]
            return (bound: max(abs(key.count - lowered[i].count), (missing + 2) / 3), item: i)
        }.sorted { ($0.bound, $0.item) < ($1.bound, $1.item) }
        var best: [(distance: Int, item: Int)] = []
        for (bound, item) in order {
            if best.count == wanted, bound > best[wanted - 1].distance { break }
            let candidate = (distance: editDistance(key, lowered[item]), item: item)
            let at = best.firstIndex { (candidate.distance, candidate.item) < ($0.distance, $0.item) } ?? best.count
            if at < wanted {
                best.insert(candidate, at: at)
                if best.count > wanted { best.removeLast() }
            }
        }
        return containing + best.map(\.item)
    }

    /// The items of `titles` (exact, or ignoring case), or every title that is not one, with up
    /// to 5 suggestions each for the first `suggestedTitles` of them.
    public func items(titled titles: [String]) -> Result<[Int], UnknownTitlesError> {
        var items: [Int] = [], unknown: [UnknownTitle] = []
        for title in titles {
            if let item = item(titled: title) {
                items.append(item)
            } else {
                let suggest = unknown.count < Self.suggestedTitles
                unknown.append(UnknownTitle(title: title, suggestions: suggest ? closest(to: title, count: 5).map { self.titles[$0] } : []))
            }
        }
        return unknown.isEmpty ? .success(items) : .failure(UnknownTitlesError(titles: unknown))
    }

    /// Up to `limit` items whose titles contain `query`, ignoring case: titles that start with it
    /// first, then the others, shorter titles first within each (what a search box wants).
    public func search(_ query: String, limit: Int) -> [Int] {
        let key = query.trimmingCharacters(in: .whitespaces).lowercased()
        guard !key.isEmpty, limit > 0 else { return [] }
        var prefix: [(Int, Int)] = [], inside: [(Int, Int)] = []
        for (i, lowered) in loweredText.enumerated() {
            if lowered.hasPrefix(key) {
                prefix.append((lowered.count, i))
            } else if lowered.contains(key) {
                inside.append((lowered.count, i))
            }
        }
        return (prefix.sorted { $0 < $1 } + inside.sorted { $0 < $1 }).prefix(limit).map(\.1)
    }
}

/// A title that is not in the catalog, with the closest ones.
public struct UnknownTitle: Sendable, Equatable, Codable {
    public var title: String
    public var suggestions: [String]
    public init(title: String, suggestions: [String]) { self.title = title; self.suggestions = suggestions }
}

public struct UnknownTitlesError: Error, Sendable, CustomStringConvertible {
    public var titles: [UnknownTitle]
    public init(titles: [UnknownTitle]) { self.titles = titles }
    public var description: String {
        titles.map { "'\($0.title)' is not a catalog title. Closest titles:\n" + $0.suggestions.map { "  \($0)" }.joined(separator: "\n") }
            .joined(separator: "\n")
    }
}

extension Catalog {
    /// An index of this catalog's titles (build it once where many lookups follow).
    public func titleIndex() -> TitleIndex { TitleIndex(titles: titles) }
    public func item(titled text: String) -> Int? { titleIndex().item(titled: text) }
    public func closest(to text: String, count: Int) -> [Int] { titleIndex().closest(to: text, count: count) }
    public func items(titled titles: [String]) -> Result<[Int], UnknownTitlesError> { titleIndex().items(titled: titles) }
    public func search(_ query: String, limit: Int) -> [Int] { titleIndex().search(query, limit: limit) }
}

/// Levenshtein distance (insertions, deletions, substitutions), two rows of memory.
func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
