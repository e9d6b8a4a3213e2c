// Metrics on hand-made rankings with values worked out by hand; the popularity baseline; and
// batched evaluation on the tiny Llama giving the rankings of one-user-at-a-time evaluation.
import CatalogIndex
import CausalLM
import Decoding
@testable import Evaluation
import Foundation
import RecData
import Testing

@Suite("Evaluation")
struct EvaluationTests {
    @Test func metricsMatchHandWorkedValues() {
        // Targets at rank 0, rank 2, rank 5 and absent.
        let ranked = [[7, 1, 2], [4, 5, 7, 8], [1, 2, 3, 4, 5, 7], [1, 2]]
        let s = MetricsSummary(ranked: ranked, targets: [7, 7, 7, 7], ks: [1, 3, 5, 10], catalogSize: 9, seconds: 0)
        #expect(s.hr == [0.25, 0.5, 0.5, 0.75])
        // NDCG: rank 0 → 1; rank 2 → 1/log2(4) = 0.5; rank 5 → 1/log2(7) = 0.356207...
        let r5 = 1 / log2(7.0)
        for (got, want) in zip(s.ndcg, [0.25, 1.5 / 4, 1.5 / 4, (1.5 + r5) / 4]) { #expect(abs(got - want) < 1e-12) }
        #expect(s.users == 4 && s.validShare == 1)
        #expect(s.fullListShare == 0)  // no list has 10 items
        let invalid = MetricsSummary(ranked: [[0, 99]], targets: [0], ks: [1], catalogSize: 9, seconds: 0)
        #expect(invalid.validShare == 0.5)
    }

    @Test func popularityRanksByTrainingFrequencyWithoutHistory() {
        let baseline = PopularityBaseline(targetCounts: [5, 9, 9, 1, 0, 7])
        #expect(baseline.rank(history: [], k: 4) == [1, 2, 5, 0])
        #expect(baseline.rank(history: [2, 5], k: 3) == [1, 0, 3])
        #expect(baseline.rank(history: [0, 1, 2, 3, 5], k: 3) == [4])
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    @Test func batchedEvaluationGivesTheSameRankings() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-eval-data-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        let source = try DataSource.resolve(dataset: Self.fixtures.appendingPathComponent("RecDataTests/Fixtures/ml-1m").path, items: nil, format: .auto)
        _ = try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
        let (model, tokenizer) = try ModelSource.resolve(Self.fixtures.appendingPathComponent("CausalLMTests/Fixtures/tiny-llama").path).load()
        let dataset = try DatasetReader.open(out)
        let catalog = try TokenizedCatalog(dataset: dataset, tokenizer: tokenizer)
        let evaluator = Evaluator(recommender: Recommender(model: model, catalog: catalog))
        let samples = try DatasetReader.samples(.train, of: dataset)  // the fixture's test split is tiny; any split will do
        let options = DecodingOptions(beams: 3, count: 3, igdAlpha: 0.1)
        let together = try evaluator.run(samples, options: options, batch: 4) { _ in }
        let alone = try evaluator.run(samples, options: options, batch: 1) { _ in }
        #expect(together.map(\.items) == alone.map(\.items))
        #expect(together.count == samples.count && together.allSatisfy { $0.items.count == 3 })
        let pop = Evaluator.popularity(samples, targetCounts: catalog.targetCounts, count: 3)
        #expect(zip(pop, samples).allSatisfy { r, s in Set(r.items).isDisjoint(with: s.history) })
    }
}

@Suite("Paired bootstrap")
struct PairedBootstrapTests {
    @Test func identicalAndShiftedSamples() {
        let a = (0..<50).map { Double($0 % 7) / 7 }
        let same = PairedBootstrap.compare(a, a)
        #expect(same.difference == 0 && same.low == 0 && same.high == 0)
        let shifted = PairedBootstrap.compare(a, a.map { $0 + 0.25 })
        #expect(abs(shifted.difference - 0.25) < 1e-12 && abs(shifted.low - 0.25) < 1e-12 && abs(shifted.high - 0.25) < 1e-12)
    }

    /// For differences of ±1 with mean m and n samples, the bootstrap interval is close to the
    /// normal one, m ± 1.96·sd/√n (sd of the differences), worked out here.
    @Test func intervalMatchesTheNormalApproximation() {
        let n = 400
        let a = [Double](repeating: 0, count: n)
        let b = (0..<n).map { $0 % 4 == 0 ? -1.0 : 1.0 }  // mean 0.5, sd = √(1 − 0.25) = 0.866
        let c = PairedBootstrap.compare(a, b, resamples: 4000, seed: 7)
        let half = 1.96 * 0.75.squareRoot() / Double(n).squareRoot()
        #expect(abs(c.difference - 0.5) < 1e-12)
        #expect(abs((c.high - c.low) / 2 - half) < 0.15 * half, "half-width \((c.high - c.low) / 2) vs \(half)")
        #expect(c.low < 0.5 && c.high > 0.5)
    }
}
