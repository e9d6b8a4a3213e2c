// Readers for the Amazon Reviews JSON-lines dumps, one object per line:
//   2018 (McAuley lab): reviews {reviewerID, asin, unixReviewTime (s)}, meta_* {asin, title}
//   2023 (McAuley lab): reviews {user_id, parent_asin, timestamp (ms)}, meta_* {parent_asin, title}
// Other keys are ignored. Titles may hold HTML character references; cleaning unescapes them.
import Foundation

public enum AmazonVersion: Sendable {
    case v2018, v2023
}

enum AmazonReader {
    private struct Review2018: Decodable { let reviewerID: String?; let asin: String?; let unixReviewTime: Double? }
    private struct Review2023: Decodable { let user_id: String?; let parent_asin: String?; let timestamp: Double? }
    private struct Meta2018: Decodable { let asin: String?; let title: String? }
    private struct Meta2023: Decodable { let parent_asin: String?; let title: String? }

    static func read(_ version: AmazonVersion, reviews: String, meta: String) throws -> InteractionLog {
        var log = InteractionLog(interactionsFile: reviews, itemsFile: meta, titlesAreHTML: true)
        let decoder = JSONDecoder()
        let reviewFile = try TextFile(path: reviews, encoding: .utf8)
        try reviewFile.forEachLine(progress: true) { number, line in
            if line.isEmpty { return true }
            let (user, item, time): (String?, String?, Double?)
            let keys: String
            switch version {
            case .v2018:
                let r = try decode(Review2018.self, line, number, reviewFile, decoder)
                (user, item, time) = (r.reviewerID, r.asin, r.unixReviewTime)
                keys = "reviewerID, asin, unixReviewTime"
            case .v2023:
                let r = try decode(Review2023.self, line, number, reviewFile, decoder)
                (user, item, time) = (r.user_id, r.parent_asin, r.timestamp)
                keys = "user_id, parent_asin, timestamp"
            }
            guard let user, let item, let time, !user.isEmpty, !item.isEmpty, time.isFinite else {
                throw DataError.malformedLine(file: reviews, line: number, expected: "a JSON object with non-empty \(keys)",
                                              found: reviewFile.string(line))
            }
            // Both versions store whole units: seconds (2018) and milliseconds (2023).
            guard time.rounded() == time else {
                throw DataError.implausibleTimestamp(file: reviews, line: number, value: "\(time)", expected: "a whole number, as this format stores it")
            }
            let t = try checkTimestamp(version == .v2018 ? time : time / 1000, text: "\(time)", wholeSeconds: false, file: reviews, line: number)
            log.add(user: user, item: item, timestamp: t, line: number)
            return true
        }
        if log.count == 0 { throw DataError.emptyFile(path: reviews) }

        let metaFile = try TextFile(path: meta, encoding: .utf8)
        try metaFile.forEachLine(progress: true) { number, line in
            if line.isEmpty { return true }
            let (item, title): (String?, String?)
            switch version {
            case .v2018:
                let m = try decode(Meta2018.self, line, number, metaFile, decoder)
                (item, title) = (m.asin, m.title)
            case .v2023:
                let m = try decode(Meta2023.self, line, number, metaFile, decoder)
                (item, title) = (m.parent_asin, m.title)
            }
            guard let item, !item.isEmpty else {
                throw DataError.malformedLine(file: meta, line: number,
                                              expected: "a JSON object with a non-empty \(version == .v2018 ? "asin" : "parent_asin")",
                                              found: metaFile.string(line))
            }
            // Items not reviewed are skipped early: meta files are far larger than the catalog.
            if log.items.lookup(item) != nil { log.setTitle(item: item, title: title ?? "", line: number) }
            return true
        }
        return log
    }

    private static func decode<T: Decodable>(
        _ type: T.Type, _ line: UnsafeBufferPointer<UInt8>, _ number: Int, _ file: TextFile, _ decoder: JSONDecoder
    ) throws -> T {
        do {
            return try decoder.decode(T.self, from: Data(buffer: line))
        } catch {
            throw DataError.malformedLine(file: file.path, line: number, expected: "one JSON object per line (\(jsonProblem(error)))",
                                          found: file.string(line))
        }
    }

}
