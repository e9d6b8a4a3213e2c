// Helpers shared by the data tests: fixture paths and scratch directories.
import Foundation
@testable import RecData

/// A file under Tests/RecDataTests/Fixtures (written by scripts/fixtures/make_data_fixtures.py).
func fixture(_ path: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(path).path
}

/// A fresh empty directory under the system temporary directory.
func scratchDirectory(_ name: String = #function) -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("llmrec-tests-\(safe)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `text` to `name` inside `dir` and returns the path.
@discardableResult
func writeText(_ text: String, _ name: String, in dir: URL, latin1: Bool = false) -> String {
    let url = dir.appendingPathComponent(name)
    let data = latin1 ? text.data(using: .isoLatin1)! : Data(text.utf8)
    try! data.write(to: url)
    return url.path
}

/// A sample as (history titles, target title), to compare across formats by title.
struct TitledSample: Equatable, CustomStringConvertible {
    var history: [String]
    var target: String
    var description: String { "\(history) → \(target)" }
}

func titled(_ samples: [Sample], _ catalog: Catalog) -> [TitledSample] {
    samples.map { TitledSample(history: $0.history.map { catalog.titles[Int($0)] }, target: catalog.titles[Int($0.target)]) }
}
