// Output the commands share: aligned key/value rows, metrics tables, measurements as rows or
// JSON, JSON string literals, timing and peak memory.
import Evaluation
import Foundation

/// Key/value rows with the values in one column, one per line.
func alignedRows(_ rows: [(String, String)]) -> String {
    let width = rows.map(\.0.count).max() ?? 0
    return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n") + "\n"
}

/// Rows of HR@K, NDCG@K, valid share, users and seconds.
func metricsTable(_ rows: [(String, MetricsSummary)]) -> String {
    guard let ks = rows.first?.1.ks else { return "" }
    let header = ["", ] + ks.map { "HR@\($0)" } + ks.map { "NDCG@\($0)" } + ["valid", "users", "seconds"]
    var table = [header]
    for (name, s) in rows {
        table.append([name] + s.hr.map { String(format: "%.4f", $0) } + s.ndcg.map { String(format: "%.4f", $0) }
                     + [String(format: "%.0f%%", 100 * s.validShare), "\(s.users)", String(format: "%.1f", s.seconds)])
    }
    let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
    return table.map { row in
        row.enumerated().map { c, cell in c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                          : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}

/// Measurements as aligned rows, or as one JSON object (numbers stay numbers) for the bench scripts.
func printMeasurements(_ rows: [(String, String)], json: Bool) {
    if json {
        print("{" + rows.map { "\"\($0.0)\":" + (Double($0.1) != nil ? $0.1 : jsonString($0.1)) }.joined(separator: ",") + "}")
    } else {
        print(alignedRows(rows), terminator: "")
    }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Peak resident memory of this process.
func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    let data = try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
    return data.map { String(decoding: $0.dropFirst().dropLast(), as: UTF8.self) } ?? "\"\""
}
