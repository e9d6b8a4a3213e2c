// The committed ML-1M study: its plan reads, and `llmrec report docs/study/ml-1m --out
// docs/RESULTS.md` gives the committed report and figures byte for byte (so a change to the
// report's code cannot leave docs/RESULTS.md stale).
import Foundation
import Study
import Testing

@Suite struct CommittedStudyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let study = root.appendingPathComponent("docs/study/ml-1m")

    @Test func thePlanReads() throws {
        let plan = try PlanReader.read(Self.study.appendingPathComponent("plan.json"), checkSources: false)
        // The arms, after ce the checks of precision (ce retrained in bf16) and of backend
        // (ce retrained on a GPU); msl as first trained (ATS read where it never updates) in msl's
        // place, the corrected msl last.
        #expect(plan.arms.map(\.name) == ["ce", "ce-bf16", "ce-gpu", "igd", "msl-tau1.5", "msl+igd", "ce-seed2", "igd-beta0", "msl"])
        #expect(plan.arms.map { $0.training.precision?.rawValue ?? "fp32" } == ["fp32", "bf16"] + Array(repeating: "fp32", count: 7))
        #expect(plan.arms.map { $0.device?.rawValue ?? "any" } == ["any", "any", "cuda"] + Array(repeating: "any", count: 6))
        #expect(plan.arm("ce-gpu")!.training == plan.arm("ce")!.training)
        #expect(plan.arm("msl-tau1.5")!.training.atsMinValid == 2 && plan.arm("msl")!.training.atsMinValid == nil)
        var corrected = plan.arm("msl-tau1.5")!.training
        corrected.atsMinValid = nil
        #expect(corrected == plan.arm("msl")!.training, "the two msl arms differ in where ATS reads only")
        #expect(plan.samples.train == 4096 && plan.samples.test == 5000 && plan.samples.valid == 512)
    }

    /// The README shows the report's main table as it is (regenerating the report and copying the
    /// table between the README's results-table markers keeps them together).
    @Test func theReadmeShowsTheMainTable() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let report = try String(contentsOf: Self.root.appendingPathComponent("docs/RESULTS.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- results-table"))
        let end = try #require(readme.range(of: "<!-- /results-table -->"))
        let shown = readme[start.upperBound..<end.lowerBound].split(separator: "\n").filter { $0.hasPrefix("|") }
        let header = try #require(report.range(of: "| row | windows | NDCG@5"))
        let table = report[header.lowerBound...].split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("|") }
        #expect(shown == Array(table), "README.md's results table differs from docs/RESULTS.md's main table: copy it again")
    }

    @Test func theReportIsTheCommittedOne() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-results-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        let written = try StudyReport.write(directory: Self.study, to: out.appendingPathComponent("RESULTS.md"))
        let committed = Self.root.appendingPathComponent("docs/RESULTS.md")
        #expect(try Data(contentsOf: written.markdown) == Data(contentsOf: committed),
                "docs/RESULTS.md is stale: run `llmrec report docs/study/ml-1m --out docs/RESULTS.md`")
        let committedFigures = Self.root.appendingPathComponent("docs/RESULTS-figures")
        let names = try FileManager.default.contentsOfDirectory(atPath: committedFigures.path).sorted()
        #expect(names == written.figures.map(\.lastPathComponent).sorted())
        for figure in written.figures {
            #expect(try Data(contentsOf: figure) == Data(contentsOf: committedFigures.appendingPathComponent(figure.lastPathComponent)),
                    "\(figure.lastPathComponent) is stale")
        }
    }
}
