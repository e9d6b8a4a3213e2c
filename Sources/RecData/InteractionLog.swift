// What every format reader produces: interactions in file order with interned user and
// item ids, and the raw title of each item with where it came from. No cleaning, merging
// or filtering happens here; DatasetBuilder does that, the same way for every format.

/// Assigns dense indices to strings in order of first appearance.
public struct Interner: Sendable {
    public private(set) var names: [String] = []
    private var index: [String: Int32] = [:]

    public init() {}

    public mutating func intern(_ name: String) -> Int32 {
        if let i = index[name] { return i }
        let i = Int32(names.count)
        index[name] = i
        names.append(name)
        return i
    }

    public func lookup(_ name: String) -> Int32? { index[name] }
    public var count: Int { names.count }
}

public struct InteractionLog: Sendable {
    /// The file the interactions came from, for messages.
    public var interactionsFile: String
    /// The file the titles came from (may equal `interactionsFile`).
    public var itemsFile: String
    /// Whether titles may hold HTML character references (Amazon).
    public var titlesAreHTML: Bool

    public var users = Interner()
    public var items = Interner()
    /// Per interaction, in file order.
    public var userOf: [Int32] = []
    public var itemOf: [Int32] = []
    public var timestamp: [Double] = []
    /// Per item: the first interactions-file line that mentions it.
    public var itemFirstLine: [Int32] = []
    /// Per item: its raw title (nil when the items file has none) and the items-file line it is on.
    public var rawTitle: [String?] = []
    public var titleLine: [Int32] = []

    public init(interactionsFile: String, itemsFile: String, titlesAreHTML: Bool) {
        self.interactionsFile = interactionsFile
        self.itemsFile = itemsFile
        self.titlesAreHTML = titlesAreHTML
    }

    public var count: Int { userOf.count }

    @discardableResult
    public mutating func addItem(_ id: String) -> Int32 {
        let i = items.intern(id)
        if Int(i) == rawTitle.count {
            rawTitle.append(nil)
            titleLine.append(0)
            itemFirstLine.append(0)
        }
        return i
    }

    public mutating func add(user: String, item: String, timestamp t: Double, line: Int) {
        let u = users.intern(user)
        let i = addItem(item)
        if itemFirstLine[Int(i)] == 0 { itemFirstLine[Int(i)] = Int32(line) }
        userOf.append(u)
        itemOf.append(i)
        timestamp.append(t)
    }

    /// Records the title of an item found in the items file. The first title given wins,
    /// as a later duplicate row of the same id would otherwise silently replace it.
    public mutating func setTitle(item: String, title: String, line: Int) {
        let i = Int(addItem(item))
        if rawTitle[i] == nil {
            rawTitle[i] = title
            titleLine[i] = Int32(line)
        }
    }
}

/// Seconds since 1970 that an interaction can carry: from 1970 up to 2100. Anything else is a
/// damaged field or a unit mistake (milliseconds read as seconds land around the year 47000).
public let plausibleTimestamps: Range<Double> = 0..<4_102_444_800

/// Field `text` of line `line` of `file` as a timestamp, or the error naming both: it parses
/// (see `parseTimestamp`), lies in `plausibleTimestamps`, and is whole where the format stores
/// whole seconds.
public func readTimestamp(_ text: String, wholeSeconds: Bool, file: String, line: Int) throws -> Double {
    guard let t = parseTimestamp(Substring(text)) else { throw DataError.badTimestamp(file: file, line: line, value: text) }
    return try checkTimestamp(t, text: text, wholeSeconds: wholeSeconds, file: file, line: line)
}

/// `t` if it lies in `plausibleTimestamps` (and is whole, if asked), or the error naming the line.
public func checkTimestamp(_ t: Double, text: String, wholeSeconds: Bool, file: String, line: Int) throws -> Double {
    guard plausibleTimestamps.contains(t) else {
        throw DataError.implausibleTimestamp(file: file, line: line, value: text, expected: "a time between 1970 and 2100")
    }
    guard !wholeSeconds || t.rounded() == t else {
        throw DataError.implausibleTimestamp(file: file, line: line, value: text, expected: "whole seconds, as this format stores them")
    }
    return t
}

/// Parses a timestamp: seconds since 1970 as an integer or decimal, or an ISO 8601 date
/// (`2014-05-01`, `2014-05-01T10:00:00`, optional `Z` or `±hh:mm`), read as UTC.
public func parseTimestamp(_ text: Substring) -> Double? {
    let s = text.utf8
    guard let first = s.first else { return nil }
    // Fast path: plain digits, the common case in every format we read.
    if first != 0x2D, s.count < 19, s.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
        var v: Int64 = 0
        for c in s { v = v * 10 + Int64(c - 0x30) }
        return Double(v)
    }
    if let v = Double(text), v.isFinite { return v }
    return parseISO8601(text)
}

private func parseISO8601(_ text: Substring) -> Double? {
    let c = Array(text.utf8)
    func number(_ from: Int, _ len: Int) -> Int? {
        guard from + len <= c.count else { return nil }
        var v = 0
        for k in from..<(from + len) {
            guard c[k] >= 0x30, c[k] <= 0x39 else { return nil }
            v = v * 10 + Int(c[k] - 0x30)
        }
        return v
    }
    guard c.count >= 10, c[4] == 0x2D, c[7] == 0x2D,
        let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
        (1...12).contains(month), day >= 1, day <= daysInMonth(year, month)
    else { return nil }
    var seconds = 0
    var i = 10
    if i < c.count, c[i] == 0x54 || c[i] == 0x20 {  // 'T' or ' '
        guard let h = number(i + 1, 2), c.count > i + 3, c[i + 3] == 0x3A, let m = number(i + 4, 2),
            h < 24, m < 60
        else { return nil }
        seconds = h * 3600 + m * 60
        i += 6
        if i < c.count, c[i] == 0x3A {
            guard let sec = number(i + 1, 2), sec < 61 else { return nil }
            seconds += sec
            i += 3
            if i < c.count, c[i] == 0x2E {  // fraction: ignored below one second
                i += 1
                while i < c.count, c[i] >= 0x30, c[i] <= 0x39 { i += 1 }
            }
        }
    }
    if i < c.count {
        if c[i] == 0x5A, i + 1 == c.count {  // 'Z'
            i += 1
        } else if c[i] == 0x2B || c[i] == 0x2D, let oh = number(i + 1, 2) {
            var om = 0
            var end = i + 3
            if end < c.count, c[end] == 0x3A { end += 1 }
            if end < c.count { guard let m = number(end, 2) else { return nil }; om = m; end += 2 }
            guard end == c.count else { return nil }
            let offset = oh * 3600 + om * 60
            seconds += c[i] == 0x2B ? -offset : offset
            i = end
        } else {
            return nil
        }
    }
    guard i == c.count else { return nil }
    return Double(daysFromCivil(year, month, day) * 86_400 + seconds)
}

private func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
private func daysInMonth(_ y: Int, _ m: Int) -> Int {
    [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}
