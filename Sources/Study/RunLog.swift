// A training run's log.jsonl as a study keeps it: one line per step and per validation. A run
// that was killed and resumed logged the steps after its last checkpoint twice; the resumed
// (later) line is the one that counts, so each (step, kind) keeps its last line.
import Foundation
import Support
import Training

struct RunLogEntry: Equatable {
    enum Kind: Int, Comparable {
        case step = 0, validation = 1
        static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }
    var step: Int
    var kind: Kind
    /// The line as written (sorted keys), kept byte for byte.
    var line: String
    var values: [String: Double]

    func value(_ key: String) -> Double? { values[key] }
}

enum RunLog {
    static func read(_ url: URL) throws -> [RunLogEntry] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw StudyError.missing("\(url.path): cannot read the run's log") }
        return parse(text)
    }

    static func parse(_ text: String) -> [RunLogEntry] {
        var latest: [String: RunLogEntry] = [:]
        for line in text.split(separator: "\n") {
            guard let (step, obj) = RunDirectory.logEntry(line) else { continue }
            let kind: RunLogEntry.Kind = obj["valid_loss"] != nil ? .validation : .step
            var values: [String: Double] = [:]
            for (k, v) in obj {
                if let n = v as? NSNumber { values[k] = n.doubleValue }
            }
            latest["\(step)-\(kind.rawValue)"] = RunLogEntry(step: step, kind: kind, line: String(line), values: values)
        }
        return latest.values.sorted { ($0.step, $0.kind) < ($1.step, $1.kind) }
    }

    static func write(_ entries: [RunLogEntry], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeFileAtomically(Data(entries.map { $0.line + "\n" }.joined().utf8), to: url)
    }
}
