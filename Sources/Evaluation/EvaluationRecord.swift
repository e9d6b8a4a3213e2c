// One evaluated sample, and the JSON-lines file `llmrec eval --out` writes and `llmrec compare`
// reads: one line per sample with the user, the target (id and title), the target's rank from 0
// (-1 when it is not listed), the ranked items (id, title, score) and how many history items
// were dropped to fit the context.
import Foundation
import RecData
import Support

/// One evaluated sample: its ranking and where the target landed.
public struct EvaluationRecord: Sendable, Codable, Equatable {
    public var user: String
    public var target: Int
    public var items: [Int]
    public var scores: [Double]
    /// The target's rank from 0, or nil when it is not in the list.
    public var rank: Int?
    /// History items dropped (oldest first) so that the prompt fits the model's context.
    public var droppedHistory: Int

    public init(user: String, target: Int, items: [Int], scores: [Double], rank: Int?, droppedHistory: Int) {
        self.user = user
        self.target = target
        self.items = items
        self.scores = scores
        self.rank = rank
        self.droppedHistory = droppedHistory
    }
}

public enum EvaluationFile {
    /// A line as written: titles beside the ids, so that the file reads on its own.
    struct Line: Codable {
        struct Item: Codable { var id: Int; var title: String; var score: Double }
        var user: String
        var target: Int
        var targetTitle: String
        var rank: Int
        var items: [Item]
        var droppedHistory: Int
        enum CodingKeys: String, CodingKey {
            case user, target, rank, items
            case targetTitle = "target_title", droppedHistory = "dropped_history"
        }
    }

    /// Writes one line per record (whole, or not at all).
    public static func write(_ records: [EvaluationRecord], catalog: Catalog, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let lines = try records.map { r in
            let line = Line(user: r.user, target: r.target, targetTitle: catalog.titles[r.target], rank: r.rank ?? -1,
                            items: zip(r.items, r.scores).map { Line.Item(id: $0.0, title: catalog.titles[$0.0], score: $0.1) },
                            droppedHistory: r.droppedHistory)
            return String(decoding: try encoder.encode(line), as: UTF8.self)
        }
        try writeFileAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: url)
    }

    public enum ReadError: Error, CustomStringConvertible {
        case unreadable(String)
        case badLine(String, line: Int, problem: String)
        case empty(String)
        public var description: String {
            switch self {
            case .unreadable(let p): "\(p): cannot read the file."
            case .badLine(let p, let n, let problem): "\(p):\(n): expected a line written by llmrec eval --out (user, target, rank, items): \(problem)."
            case .empty(let p): "\(p): no samples."
            }
        }
    }

    /// Reads a file `write` wrote, naming the line that is not such a line.
    public static func read(_ path: String) throws -> [EvaluationRecord] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ReadError.unreadable(path) }
        let decoder = JSONDecoder()
        var out: [EvaluationRecord] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let l: Line
            do { l = try decoder.decode(Line.self, from: Data(line.utf8)) } catch {
                throw ReadError.badLine(path, line: n + 1, problem: jsonProblem(error))
            }
            out.append(EvaluationRecord(user: l.user, target: l.target, items: l.items.map(\.id), scores: l.items.map(\.score),
                                        rank: l.rank >= 0 ? l.rank : nil, droppedHistory: l.droppedHistory))
        }
        if out.isEmpty { throw ReadError.empty(path) }
        return out
    }
}
