// The committed sequence-training study (docs/study/ml-1m-sequences): its pre-registered plan
// reads as registered, study 1's rows come in as imports on the same test windows, a contrast
// against an imported full ranking (SASRec) pairs each decoder with it, and `llmrec report
// docs/study/ml-1m-sequences --out docs/RESULTS-sequences.md` gives the committed report byte for byte.
import Foundation
import Study
import Testing
import Training

@Suite struct CommittedSequenceStudyTests {
    static let root = CommittedStudyTests.root
    static let study = root.appendingPathComponent("docs/study/ml-1m-sequences")

    @Test func thePlanReadsAsRegistered() throws {
        let plan = try PlanReader.read(Self.study.appendingPathComponent("plan.json"), checkSources: false)
        #expect(plan.arms.map(\.name) == ["ce-seq-1x", "ce-seq-4x", "igd-seq-4x", "msl-seq-4x", "ce-seq-4x-s2", "ce-seq-full", "igd-seq-full", "msl-seq-full"])
        #expect(plan.arms.allSatisfy { $0.training.format == .sequences && $0.training.precision == .bf16 })
        // 1x is study 1's ce-bf16 budget (4,096 windows × 2 epochs, as `study run` counts it); 4x four times that.
        #expect(plan.arm("ce-seq-1x")!.training.trainTokens == 1_668_968)
        #expect(plan.arms.filter { $0.name.contains("-4x") }.allSatisfy { $0.training.trainTokens == 4 * 1_668_968 })
        #expect(plan.arms.filter { $0.name.hasSuffix("-full") }.allSatisfy { $0.training.trainTokens == nil && $0.training.epochs == 1 && $0.device == .cuda })
        var seed2 = plan.arm("ce-seq-4x")!.training
        seed2.seed = 2
        #expect(seed2 == plan.arm("ce-seq-4x-s2")!.training, "the noise-floor arms differ in the seed only")
        #expect(plan.noiseFloor == ["ce-seq-4x", "ce-seq-4x-s2"])
        #expect(plan.arms.allSatisfy { $0.decoders.starts(with: ["plain", "masked"]) } && plan.decoder("plain-h50")?.history == 50)
        #expect(plan.imports?.rows == ["ce-bf16", "popularity", "zero-shot", "sasrec"] && plan.imports?.trainingTokens == ["ce-bf16": 1_668_968])
        // Every arm is compared with SASRec, and the pre-registered pairs are there.
        #expect(plan.arms.allSatisfy { arm in plan.contrasts.contains { $0.arm == arm.name && $0.minus == "sasrec" } })
        for (arm, minus) in [("ce-seq-1x", "ce-bf16"), ("ce-seq-4x", "ce-seq-1x"), ("igd-seq-4x", "ce-seq-4x"), ("msl-seq-4x", "ce-seq-4x")] {
            #expect(plan.contrasts.contains { $0.arm == arm && $0.minus == minus })
        }
        // The same test windows as study 1.
        let ours = try Data(contentsOf: Self.study.appendingPathComponent("results/samples.json"))
        let theirs = try Data(contentsOf: CommittedStudyTests.study.appendingPathComponent("results/samples.json"))
        struct Draw: Decodable { let seed: Int; let test: [Int]; let valid: [Int] }
        let (a, b) = (try JSONDecoder().decode(Draw.self, from: ours), try JSONDecoder().decode(Draw.self, from: theirs))
        #expect(a.seed == b.seed && a.test == b.test && a.valid == b.valid)
    }

    /// Imported rows show with their study's mark, and a contrast with SASRec (a full ranking)
    /// sets each decoder of the arm against it: with ce-seq-1x's plain results made a copy of study
    /// 1's ce-bf16, ce-seq-1x · plain − SASRec in HR@10 is the difference of the two TSVs' hit counts,
    /// and ce-seq-1x − ce-bf16 is exactly 0.
    @Test func importedRowsAndContrastsWithThem() throws {
        let fm = FileManager.default
        let copy = fm.temporaryDirectory.appendingPathComponent("llmrec-seqstudy-\(UUID().uuidString.prefix(8))")
        defer { try? fm.removeItem(at: copy) }
        try fm.createDirectory(at: copy, withIntermediateDirectories: true)
        try fm.copyItem(at: CommittedStudyTests.study, to: copy.appendingPathComponent("ml-1m"))
        let seq = copy.appendingPathComponent("ml-1m-sequences")
        try fm.copyItem(at: Self.study, to: seq)
        let arm = seq.appendingPathComponent("results/ce-seq-1x")
        try fm.createDirectory(at: arm, withIntermediateDirectories: true)
        for file in ["plain.json", "plain.tsv"] {
            try fm.copyItem(at: copy.appendingPathComponent("ml-1m/results/ce-bf16/\(file)"), to: arm.appendingPathComponent(file))
        }
        let report = StudyReport(results: try StudyResults(directory: seq), figureFolder: "figures").render().0
        #expect(report.contains("| sasrec [ml-1m] | 5,000 | 0.0611 | **0.0790** |"))
        func hits(_ tsv: URL, within k: Int) throws -> Int {
            try String(contentsOf: tsv, encoding: .utf8).split(separator: "\n").dropFirst().filter { line in
                (0..<k).contains(Int(line.split(separator: "\t")[2])!)
            }.count
        }
        let lines = report.split(separator: "\n")
        let sasrec = try #require(lines.first { $0.hasPrefix("| ce-seq-1x · plain | sasrec [ml-1m] | 5,000 |") })
        let cells = sasrec.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        let ours = try hits(arm.appendingPathComponent("plain.tsv"), within: 10)
        let theirs = try hits(copy.appendingPathComponent("ml-1m/results/sasrec/full-ranking.tsv"), within: 10)
        #expect(cells[5] == String(format: "%+.4f", Double(ours - theirs) / 5000))
        let twin = try #require(lines.first { $0.hasPrefix("| ce-seq-1x · plain | ce-bf16 · plain [ml-1m] | 5,000 |") })
        #expect(twin.contains("| +0.0000 | [+0.0000, +0.0000] | +0.0000 |"))
    }

    @Test func theReportIsTheCommittedOne() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-seqresults-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        let written = try StudyReport.write(directory: Self.study, to: out.appendingPathComponent("RESULTS-sequences.md"))
        let committed = Self.root.appendingPathComponent("docs/RESULTS-sequences.md")
        #expect(try Data(contentsOf: written.markdown) == Data(contentsOf: committed),
                "docs/RESULTS-sequences.md is stale: run `llmrec report docs/study/ml-1m-sequences --out docs/RESULTS-sequences.md`")
        let figures = Self.root.appendingPathComponent("docs/RESULTS-sequences-figures")
        #expect(try FileManager.default.contentsOfDirectory(atPath: figures.path).sorted() == written.figures.map(\.lastPathComponent).sorted())
        for figure in written.figures {
            #expect(try Data(contentsOf: figure) == Data(contentsOf: figures.appendingPathComponent(figure.lastPathComponent)),
                    "\(figure.lastPathComponent) is stale")
        }
    }
}
