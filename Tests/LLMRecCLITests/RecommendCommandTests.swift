// `recommend`, `eval` and `compare` through the parsed commands on the tiny Llama and a fixture
// dataset: they run, unknown titles get the closest catalog titles, and compare refuses files
// that do not hold the same samples.
import ArgumentParser
import Evaluation
import Foundation
import Testing
@testable import LLMRecCLI

@Suite("recommend, eval and compare", .serialized)
struct RecommendCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let model = root.appendingPathComponent("CausalLMTests/Fixtures/tiny-llama").path

    static let data: URL = {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-rec-data-\(UUID().uuidString.prefix(8))")
        var prepare = try! LLMRec.parseAsRoot(["data", "prepare", "--dataset", root.appendingPathComponent("RecDataTests/Fixtures/ml-1m").path,
                                               "--out", out.path, "--log-level", "error"])
        try! prepare.run()
        return out
    }()

    @Test func recommendRunsAndNamesUnknownTitles() throws {
        var ok = try LLMRec.parseAsRoot(["recommend", "--model", Self.model, "--data", Self.data.path, "--history", "Toy Story (1995)", "heat (1995)",
                                         "--top", "3", "--igd-alpha", "0.1", "--log-level", "error"])
        try ok.run()
        var unknown = try LLMRec.parseAsRoot(["recommend", "--model", Self.model, "--data", Self.data.path, "--history", "Toy Storey", "--top", "2"])
        #expect { try unknown.run() } throws: { "\($0)".contains("not a catalog title") && "\($0)".contains("Toy Story (1995)") }
        #expect { try LLMRec.parseAsRoot(["recommend", "--data", "d"]) } throws: { LLMRec.message(for: $0).contains("at least one title") }
        #expect { try LLMRec.parseAsRoot(["recommend", "--data", "d", "--history", "x", "--top", "12", "--beams", "5"]) } throws: {
            LLMRec.message(for: $0).contains("needs at least 12 beams")
        }
    }

    @Test func evalWritesRankingsThatCompareReads() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-cmp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        for (file, extra) in [(a, [String]()), (b, ["--igd-alpha", "0.2"])] {
            var eval = try LLMRec.parseAsRoot(["eval", "--model", Self.model, "--data", Self.data.path, "--split", "train", "--k", "1,2,3",
                                               "--beams", "3", "--out", file, "--log-level", "error"] + extra)
            try eval.run()
        }
        let lines = try String(contentsOfFile: a, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5)  // the fixture's five training samples
        var compare = try LLMRec.parseAsRoot(["compare", a, b, "--k", "1,3"])
        try compare.run()
        // A model and the baseline in one table.
        var both = try LLMRec.parseAsRoot(["eval", "--baseline", "popularity", "--model", Self.model, "--data", Self.data.path, "--k", "1,2",
                                           "--beams", "2", "--split", "valid", "--log-level", "error"])
        try both.run()
        #expect { try LLMRec.parseAsRoot(["eval", "--baseline", "popularity", "--model", "m", "--data", "d", "--out", "x"]) } throws: {
            LLMRec.message(for: $0).contains("one model or baseline")
        }
        var other = try LLMRec.parseAsRoot(["eval", "--model", Self.model, "--data", Self.data.path, "--k", "1,2", "--beams", "2",
                                            "--split", "valid", "--out", b, "--log-level", "error"])
        try other.run()
        var mismatch = try LLMRec.parseAsRoot(["compare", a, b, "--k", "1"])
        #expect { try mismatch.run() } throws: { "\($0)".contains("do not hold the same samples") }
        var tooDeep = try LLMRec.parseAsRoot(["compare", a, a, "--k", "5"])
        #expect { try tooDeep.run() } throws: { "\($0)".contains("exceeds the shortest ranked list") }
    }

    @Test func compareCountsHowAlikeTheListsAre() {
        // Worked by hand: 3 of 3, 2 of 3 and 0 of 3 shared at K = 3; only the first pair in order.
        let a = [[1, 2, 3, 9], [4, 5, 6], [7, 8, 1]], b = [[1, 2, 3, 7], [5, 4, 0], [2, 3, 4]]
        let alike = CompareCommand.agreement(a, b, top: 3)
        #expect(abs(alike.meanShared - 5.0 / 9) < 1e-12)
        #expect(alike.leastShared == 0)
        #expect(alike.identical == 1)
    }

    /// bf16 ranks the same samples as fp32 (here the tiny model, through the portable or fast kernel).
    @Test func evalRunsInBFloat16() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-bf16-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("bf16.jsonl").path
        var eval = try LLMRec.parseAsRoot(["eval", "--model", Self.model, "--data", Self.data.path, "--split", "train", "--k", "1,3",
                                           "--beams", "3", "--precision", "bf16", "--out", out, "--log-level", "error"])
        try eval.run()
        let records = try EvaluationFile.read(out)
        #expect(records.count == 5 && records.allSatisfy { $0.items.count == 3 })
    }
}
