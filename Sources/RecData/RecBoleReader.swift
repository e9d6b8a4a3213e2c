// Reader for RecBole atomic files (https://recbole.io/docs/user_guide/data/atomic_files.html):
// tab-separated, a typed header such as "user_id:token<TAB>item_id:token<TAB>timestamp:float".
//   .inter needs user_id, item_id, timestamp; other columns (rating, …) are ignored.
//   .item  needs item_id and a title column (title, movie_title, item_title or name); when a
//          release_year column holds a year, the title becomes "Title (Year)", as MovieLens writes it.

enum RecBoleReader {
    static let titleColumns = ["title", "movie_title", "item_title", "name"]

    static func read(inter: String, item: String, encoding: TextEncoding) throws -> InteractionLog {
        var log = InteractionLog(interactionsFile: inter, itemsFile: item, titlesAreHTML: false)
        let interFile = try TextFile(path: inter, encoding: encoding)
        var fields: [UnsafeBufferPointer<UInt8>] = []
        var columns: (user: Int, item: Int, time: Int, count: Int)?
        try interFile.forEachLine(progress: true) { number, line in
            if line.isEmpty { return true }
            splitFields(line, separator: [0x09], into: &fields)
            guard let c = columns else {
                let names = fields.map { columnName(interFile.string($0)) }
                columns = (try index(of: "user_id", in: names, file: inter),
                           try index(of: "item_id", in: names, file: inter),
                           try index(of: "timestamp", in: names, file: inter), names.count)
                return true
            }
            guard fields.count == c.count else {
                throw DataError.malformedLine(file: inter, line: number, expected: "\(c.count) tab-separated fields as in the header",
                                              found: interFile.string(line))
            }
            let t = try readTimestamp(interFile.string(fields[c.time]), wholeSeconds: false, file: inter, line: number)
            let user = interFile.string(fields[c.user]), itemID = interFile.string(fields[c.item])
            guard !user.isEmpty, !itemID.isEmpty else {
                throw DataError.malformedLine(file: inter, line: number, expected: "a non-empty user_id and item_id",
                                              found: interFile.string(line))
            }
            log.add(user: user, item: itemID, timestamp: t, line: number)
            return true
        }
        if columns == nil || log.count == 0 { throw DataError.emptyFile(path: inter) }

        let itemFile = try TextFile(path: item, encoding: encoding)
        var itemColumns: (id: Int, title: Int, year: Int?, count: Int)?
        try itemFile.forEachLine { number, line in
            if line.isEmpty { return true }
            splitFields(line, separator: [0x09], into: &fields)
            guard let c = itemColumns else {
                let names = fields.map { columnName(itemFile.string($0)) }
                guard let title = titleColumns.lazy.compactMap({ names.firstIndex(of: $0) }).first else {
                    throw DataError.missingColumn(file: item, column: titleColumns.joined(separator: "' or '"), found: names)
                }
                itemColumns = (try index(of: "item_id", in: names, file: item), title,
                               names.firstIndex(of: "release_year"), names.count)
                return true
            }
            guard fields.count == c.count else {
                throw DataError.malformedLine(file: item, line: number, expected: "\(c.count) tab-separated fields as in the header",
                                              found: itemFile.string(line))
            }
            var title = itemFile.string(fields[c.title])
            if let y = c.year, let year = Int(itemFile.string(fields[y])), (1000...9999).contains(year),
                !title.isEmpty, !title.hasSuffix("(\(year))")
            {
                title += " (\(year))"
            }
            log.setTitle(item: itemFile.string(fields[c.id]), title: title, line: number)
            return true
        }
        return log
    }

    /// "item_id:token" → "item_id".
    private static func columnName(_ header: String) -> String {
        String(header.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    private static func index(of name: String, in names: [String], file: String) throws -> Int {
        guard let i = names.firstIndex(of: name) else {
            throw DataError.missingColumn(file: file, column: name, found: names)
        }
        return i
    }
}
