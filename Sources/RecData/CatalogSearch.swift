// Finding catalog items from what a person typed: exact titles first (then the same title in
// any case), and otherwise the closest titles — by substring, then by edit distance — so that
// an unknown title gets a helpful list instead of a bare error.
import Foundation

extension Catalog {
    /// The item whose title is `text`, exactly or ignoring case and surrounding spaces.
    public func item(titled text: String) -> Int? {
        if let i = titles.firstIndex(of: text) { return i }
        let key = text.trimmingCharacters(in: .whitespaces).lowercased()
        return titles.firstIndex { $0.lowercased() == key }
    }

    /// Up to `count` items whose titles are closest to `text`: titles containing it (shortest
    /// first), then the smallest edit distance between lower-cased titles.
    public func closest(to text: String, count: Int) -> [Int] {
        // Long input is cut for the comparison: its cost is the key's length times every title's.
        let key = String(String.UnicodeScalarView(text.trimmingCharacters(in: .whitespaces).lowercased().unicodeScalars.prefix(Self.longestComparedKey)))
        guard !key.isEmpty, count > 0 else { return [] }
        let lowered = titles.map { $0.lowercased() }
        let containing = lowered.indices.filter { lowered[$0].contains(key) }.sorted { (lowered[$0].count, $0) < (lowered[$1].count, $1) }
        if containing.count >= count { return Array(containing.prefix(count)) }
        let rest = lowered.indices.filter { !lowered[$0].contains(key) }
            .map { (item: $0, distance: editDistance(Array(key.unicodeScalars), Array(lowered[$0].unicodeScalars))) }
            .sorted { ($0.distance, $0.item) < ($1.distance, $1.item) }
        return containing + rest.prefix(count - containing.count).map(\.item)
    }
}

/// A title that is not in the catalog, with the closest ones.
public struct UnknownTitle: Sendable, Equatable, Codable {
    public var title: String
    public var suggestions: [String]
}

public struct UnknownTitlesError: Error, Sendable, CustomStringConvertible {
    public var titles: [UnknownTitle]
    public var description: String {
        titles.map { "'\($0.title)' is not a catalog title. Closest titles:\n" + $0.suggestions.map { "  \($0)" }.joined(separator: "\n") }
            .joined(separator: "\n")
    }
}

extension Catalog {
    /// Characters of typed text compared with titles, and unknown titles that get suggestions:
    /// bounds on what a request full of long unknown titles can cost.
    public static let longestComparedKey = 160, suggestedTitles = 5

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
        for (i, title) in titles.enumerated() {
            let lowered = title.lowercased()
            if lowered.hasPrefix(key) {
                prefix.append((lowered.count, i))
            } else if lowered.contains(key) {
                inside.append((lowered.count, i))
            }
        }
        return (prefix.sorted { $0 < $1 } + inside.sorted { $0 < $1 }).prefix(limit).map(\.1)
    }
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
