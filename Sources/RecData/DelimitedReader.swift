// Reader for generic delimited files: interactions "user,item,timestamp" and items
// "item,title", comma-separated (.csv) or tab-separated (.tsv, .tab, or a tab on the first
// line). Fields may be quoted as in RFC 4180 ("a, b" and "say ""hi"""), within one line.
// A header row is optional: when the first row names the columns (user/user_id, item/item_id/
// movie_id/asin, timestamp/time/date; item and title), they are found by name, in any order.

enum DelimitedReader {
    static let userNames: Set<String> = ["user", "userid", "reviewerid", "customerid"]
    static let itemNames: Set<String> = ["item", "itemid", "movieid", "asin", "parentasin", "productid"]
    static let timeNames: Set<String> = ["timestamp", "time", "ts", "date", "datetime", "unixreviewtime"]
    static let titleNames: Set<String> = ["title", "name", "itemtitle", "movietitle"]

    static func read(interactions: String, items: String, encoding: TextEncoding) throws -> InteractionLog {
        var log = InteractionLog(interactionsFile: interactions, itemsFile: items, titlesAreHTML: false)
        let file = try TextFile(path: interactions, encoding: encoding)
        let separator = separatorByte(for: file)
        var columns: [Int]?
        try file.forEachLine(progress: true) { number, line in
            if line.isEmpty { return true }
            let fields = try splitQuoted(line, separator: separator, file: file, line: number)
            guard let c = columns else {
                let c = try headerColumns(fields, wanted: [userNames, itemNames, timeNames],
                                          describe: ["user", "item", "timestamp"], file: file.path,
                                          isData: { parseTimestamp(Substring($0[2])) != nil })
                columns = c.columns
                if c.isHeader { return true }
                return try addRow(fields, c.columns, number)
            }
            return try addRow(fields, c, number)
        }
        func addRow(_ fields: [String], _ c: [Int], _ number: Int) throws -> Bool {
            guard fields.count > c.max()! else {
                throw DataError.malformedLine(file: interactions, line: number,
                                              expected: "at least \(c.max()! + 1) fields (user, item, timestamp)",
                                              found: fields.joined(separator: String(UnicodeScalar(separator))))
            }
            let (user, item, time) = (fields[c[0]], fields[c[1]], fields[c[2]])
            guard !user.isEmpty, !item.isEmpty else {
                throw DataError.malformedLine(file: interactions, line: number, expected: "a non-empty user and item",
                                              found: fields.joined(separator: String(UnicodeScalar(separator))))
            }
            let t = try readTimestamp(time, wholeSeconds: false, file: interactions, line: number)
            log.add(user: user, item: item, timestamp: t, line: number)
            return true
        }
        if log.count == 0 { throw DataError.emptyFile(path: interactions) }

        let itemFile = try TextFile(path: items, encoding: encoding)
        let itemSeparator = separatorByte(for: itemFile)
        var itemColumns: [Int]?
        try itemFile.forEachLine { number, line in
            if line.isEmpty { return true }
            let fields = try splitQuoted(line, separator: itemSeparator, file: itemFile, line: number)
            if itemColumns == nil {
                let c = try headerColumns(fields, wanted: [itemNames, titleNames], describe: ["item", "title"],
                                          file: items, isData: { log.items.lookup($0[0]) != nil })
                itemColumns = c.columns
                if c.isHeader { return true }
            }
            let c = itemColumns!
            guard fields.count > c.max()! else {
                throw DataError.malformedLine(file: items, line: number, expected: "at least \(c.max()! + 1) fields (item, title)",
                                              found: itemFile.string(line))
            }
            log.setTitle(item: fields[c[0]], title: fields[c[1]], line: number)
            return true
        }
        return log
    }

    private static func separatorByte(for file: TextFile) -> UInt8 {
        let lower = file.path.lowercased()
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") { return 0x09 }
        if lower.hasSuffix(".csv") { return 0x2C }
        var tab = false
        file.forEachLine { _, line in tab = line.contains(0x09); return false }
        return tab ? 0x09 : 0x2C
    }

    /// Finds the wanted columns by name in a header row, or, when the first row is data
    /// (`isData`), takes them in order.
    private static func headerColumns(
        _ first: [String], wanted: [Set<String>], describe: [String], file: String, isData: ([String]) -> Bool
    ) throws -> (columns: [Int], isHeader: Bool) {
        let normalized = first.map { $0.lowercased().filter { $0 != "_" && $0 != " " && $0 != "-" } }
        let found = wanted.map { names in normalized.firstIndex { names.contains($0) } }
        if found.allSatisfy({ $0 != nil }) { return (found.map { $0! }, true) }
        if first.count >= wanted.count, isData(first) { return (Array(0..<wanted.count), false) }
        let missing = zip(found, describe).first { $0.0 == nil }!.1
        throw DataError.missingColumn(file: file, column: missing, found: first)
    }

    /// Splits one line into fields, honouring double quotes.
    static func splitQuoted(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8, file: TextFile, line number: Int) throws -> [String] {
        var fields: [String] = []
        var current: [UInt8] = []
        var i = 0
        var quoted = false
        var wasQuoted = false
        while i < line.count {
            let c = line[i]
            if quoted {
                if c == 0x22 {
                    if i + 1 < line.count, line[i + 1] == 0x22 { current.append(0x22); i += 2; continue }
                    quoted = false
                } else {
                    current.append(c)
                }
            } else if c == 0x22, current.isEmpty, !wasQuoted {
                quoted = true
                wasQuoted = true
            } else if c == separator {
                fields.append(current.withUnsafeBufferPointer { file.string($0) })
                current.removeAll(keepingCapacity: true)
                wasQuoted = false
            } else {
                current.append(c)
            }
            i += 1
        }
        if quoted {
            throw DataError.malformedLine(file: file.path, line: number, expected: "a closing double quote before the end of the line",
                                          found: file.string(line))
        }
        fields.append(current.withUnsafeBufferPointer { file.string($0) })
        return fields
    }
}
