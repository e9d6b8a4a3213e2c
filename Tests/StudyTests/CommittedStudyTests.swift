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
        // From msl+igd on, bf16 (the bf16 check passed; an fp32 arm outlasted a sitting), and the
        // noise floor is the two seeds in bf16.
        #expect(plan.arms.map { $0.training.precision?.rawValue ?? "fp32" } == ["fp32", "bf16"] + Array(repeating: "fp32", count: 3) + Array(repeating: "bf16", count: 4))
        #expect(plan.noiseFloor == ["ce-bf16", "ce-seed2"])
        var seed2 = plan.arm("ce-bf16")!.training
        seed2.seed = 2
        #expect(seed2 == plan.arm("ce-seed2")!.training, "the two noise-floor arms differ in the seed only")
        #expect(plan.arms.map { $0.device?.rawValue ?? "any" } == ["any", "any", "cuda"] + Array(repeating: "any", count: 6))
        #expect(plan.arm("ce-gpu")!.training == plan.arm("ce")!.training)
        #expect(plan.arm("msl-tau1.5")!.training.atsMinValid == 2 && plan.arm("msl")!.training.atsMinValid == nil)
        var corrected = plan.arm("msl-tau1.5")!.training
        corrected.atsMinValid = nil
        corrected.precision = .bf16
        #expect(corrected == plan.arm("msl")!.training, "the two msl arms differ in where ATS reads and in precision only")
        #expect(plan.samples.train == 4096 && plan.samples.test == 5000 && plan.samples.valid == 512)
        #expect(plan.contrasts.map { "\($0.arm) − \($0.minus)" } == ["igd-beta0 − igd", "msl − msl-tau1.5", "msl+igd − msl"])
    }

    /// The plan's contrasts set two arms against each other on the decoders both ran: igd-beta0 −
    /// igd in HR@10 is the difference of the two lists' hit counts in their TSVs; a pair one of
    /// whose arms has no results yet is listed as such.
    @Test func contrastsSetThePairedArmsAgainstEachOther() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-study-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: Self.study, to: copy)
        let msl = copy.appendingPathComponent("results/msl")
        if FileManager.default.fileExists(atPath: msl.path) { try FileManager.default.removeItem(at: msl) }
        let report = StudyReport(results: try StudyResults(directory: copy), figureFolder: "figures").render().0

        /// Windows whose target is among the first 10 items (ranks count from 0; -1: absent).
        func hits(_ arm: String) throws -> Int {
            let tsv = try String(contentsOf: copy.appendingPathComponent("results/\(arm)/plain.tsv"), encoding: .utf8)
            return tsv.split(separator: "\n").dropFirst().filter { line in
                let rank = Int(line.split(separator: "\t")[2])!
                return (0..<10).contains(rank)
            }.count
        }
        let row = try #require(report.split(separator: "\n").first { $0.hasPrefix("| igd-beta0 · plain | igd · plain | 5,000 |") })
        let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(cells[5] == String(format: "%+.4f", Double(try hits("igd-beta0") - hits("igd")) / 5000))
        #expect(report.contains("- msl − msl-tau1.5 (not both run yet): MSL with ATS read at the title's first word against τ held at 1.5; "
                                + "msl trained in bf16, msl-tau1.5 in fp32\n"))
    }

    /// The arms in bf16 after the bf16 check are also compared with ce-bf16, and the noise floor
    /// is ce-seed2 − ce-bf16: with ce-seed2's results made a copy of ce-bf16's, both differences
    /// are exactly 0 on every window.
    @Test func bf16ArmsCompareWithTheBF16Twin() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-study-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: Self.study, to: copy)
        let twin = copy.appendingPathComponent("results/ce-bf16"), seed2 = copy.appendingPathComponent("results/ce-seed2")
        // ce-seed2 becomes ce-bf16's exact copy, whether or not its own results are committed.
        if FileManager.default.fileExists(atPath: seed2.path) { try FileManager.default.removeItem(at: seed2) }
        try FileManager.default.copyItem(at: twin, to: seed2)
        for (file, edit) in [("arm.json", { (o: inout [String: Any]) in
                                 var training = o["training"] as! [String: Any]
                                 training["seed"] = 2
                                 o["training"] = training
                                 o["name"] = "ce-seed2" }),
                             ("plain.json", { (o: inout [String: Any]) in o["arm"] = "ce-seed2" })] {
            let url = seed2.appendingPathComponent(file)
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            edit(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: url)
        }
        let written = try StudyReport.write(directory: copy, to: copy.appendingPathComponent("RESULTS.md"))
        let report = try String(contentsOf: written.markdown, encoding: .utf8)
        #expect(report.contains("Arms in bf16 besides ce-bf16: msl+igd, ce-seed2, igd-beta0, msl."))
        #expect(report.contains("- ce-seed2 − ce-bf16 (plain, 5,000 windows): +0.0000 [+0.0000, +0.0000]\n"))
        #expect(report.contains("(ce-seed2 − ce-bf16, 5,000 windows): +0.0000 [+0.0000, +0.0000] in NDCG@10"))
        // ce-bf16 − ce is +0.0001 as printed: beyond a seed gap of exactly 0.
        #expect(report.contains("**bf16 may be used for further arms** (the difference is beyond the seed gap of +0.0000)."))
    }

    /// Every CPU arm, floor and external row has its results; only the arm pinned to a GPU waits,
    /// and the report says what runs it.
    @Test func onlyTheGPUArmWaits() throws {
        let results = try StudyResults(directory: Self.study)
        #expect(results.missing == ["arm ce-gpu (pinned to cuda: only `study run --device cuda` runs it)"])
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
