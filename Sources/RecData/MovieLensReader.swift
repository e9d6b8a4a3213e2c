// Readers for the original GroupLens MovieLens files, Latin-1 encoded:
//   100K: u.data  "user<TAB>item<TAB>rating<TAB>timestamp" (a "|" separator is accepted too)
//         u.item  "item|title|release date|video release date|IMDb URL|19 genre flags"
//   1M:   ratings.dat "user::item::rating::timestamp",  movies.dat "item::title::genres"
// Titles already read "Title (Year)". Ratings are ignored: every rating is an interaction.

enum MovieLensReader {
    static func read100K(ratings: String, items: String, encoding: TextEncoding) throws -> InteractionLog {
        var log = InteractionLog(interactionsFile: ratings, itemsFile: items, titlesAreHTML: false)
        let data = try TextFile(path: ratings, encoding: encoding)
        let separator: [UInt8] = firstLineContains(data, 0x09) ? [0x09] : [0x7C]
        try readInteractions(data, separator: separator, minFields: 4, columns: (0, 1, 3),
                             expected: "4 fields: user, item, rating, timestamp", into: &log)
        try readTitles(TextFile(path: items, encoding: encoding), separator: [0x7C], minFields: 2,
                       expected: "item|title|… (at least 2 '|'-separated fields)", into: &log)
        return log
    }

    static func read1M(ratings: String, items: String, encoding: TextEncoding) throws -> InteractionLog {
        var log = InteractionLog(interactionsFile: ratings, itemsFile: items, titlesAreHTML: false)
        try readInteractions(TextFile(path: ratings, encoding: encoding), separator: [0x3A, 0x3A], minFields: 4,
                             columns: (0, 1, 3), expected: "user::item::rating::timestamp", into: &log)
        try readTitles(TextFile(path: items, encoding: encoding), separator: [0x3A, 0x3A], minFields: 2,
                       expected: "item::title::genres", into: &log)
        return log
    }

    private static func firstLineContains(_ file: TextFile, _ byte: UInt8) -> Bool {
        var found = false
        file.forEachLine { _, line in found = line.contains(byte); return false }
        return found
    }
}

/// Reads headerless delimited interactions; `columns` are the (user, item, timestamp) field indices.
func readInteractions(
    _ file: TextFile, separator: [UInt8], minFields: Int, columns: (Int, Int, Int), expected: String,
    into log: inout InteractionLog
) throws {
    var fields: [UnsafeBufferPointer<UInt8>] = []
    var any = false
    try file.forEachLine(progress: true) { number, line in
        if line.isEmpty { return true }
        any = true
        splitFields(line, separator: separator, into: &fields)
        guard fields.count >= minFields else {
            throw DataError.malformedLine(file: file.path, line: number, expected: expected, found: file.string(line))
        }
        let user = file.string(fields[columns.0]), item = file.string(fields[columns.1])
        guard !user.isEmpty, !item.isEmpty else {
            throw DataError.malformedLine(file: file.path, line: number, expected: "a non-empty user and item id", found: file.string(line))
        }
        let t = try readTimestamp(file.string(fields[columns.2]), wholeSeconds: true, file: file.path, line: number)
        log.add(user: user, item: item, timestamp: t, line: number)
        return true
    }
    if !any { throw DataError.emptyFile(path: file.path) }
}

/// Reads headerless delimited item rows whose first field is the id and second the title.
func readTitles(
    _ file: TextFile, separator: [UInt8], minFields: Int, expected: String, into log: inout InteractionLog
) throws {
    var fields: [UnsafeBufferPointer<UInt8>] = []
    try file.forEachLine(progress: true) { number, line in
        if line.isEmpty { return true }
        splitFields(line, separator: separator, into: &fields)
        guard fields.count >= minFields else {
            throw DataError.malformedLine(file: file.path, line: number, expected: expected, found: file.string(line))
        }
        log.setTitle(item: file.string(fields[0]), title: file.string(fields[1]), line: number)
        return true
    }
}
