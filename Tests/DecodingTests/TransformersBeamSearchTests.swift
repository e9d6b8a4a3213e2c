// The real SmolLM2 on real MovieLens-100K prompts against transformers' beam search
// (scripts/fixtures/make_decoding_fixtures.py: generate with num_beams=10,
// prefix_allowed_tokens_fn over the catalog trie, length_penalty=1): the same ten titles in
// the same order, with the same sequence scores.
import CatalogIndex
import CausalLM
@testable import Decoding
import Foundation
import RecData
import Support
import Testing

@Suite("Beam search against transformers' generate", .serialized,
       .enabled(if: Assets.smollm2.isPresent && Assets.ml100k.isPresent, "needs SmolLM2 and MovieLens-100K; run scripts/fetch-assets.sh"))
struct TransformersBeamSearchTests {
    struct Fixture: Decodable {
        struct Result: Decodable { let title: String?; let score: Double }
        struct Case: Decodable { let test_index: Int; let user: String; let prompt_ids: [Int32]; let results: [Result] }
        let cases: [Case]
    }

    @Test func sameTitlesInTheSameOrder() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/smollm2_beam_search.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-beam-ml100k-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try DatasetPreparation.run(source: DataSource.resolve(dataset: "ml-100k", items: nil, format: .auto), options: BuildOptions(), out: out, replace: false)
        let dataset = try DatasetReader.open(out)
        let (model, tokenizer) = try ModelSource.resolve("smollm2").load()
        let corpus = try TokenizedCatalog(dataset: dataset, tokenizer: tokenizer)
        let test = try DatasetReader.samples(.test, of: dataset)
        let search = ConstrainedBeamSearch(model: model, ig: corpus.ig)
        var prompts: [[Int32]] = []
        for c in fixture.cases {
            let sample = test[c.test_index]
            #expect(sample.user == c.user)
            let prompt = corpus.promptTokens(history: sample.history)
            #expect(prompt == c.prompt_ids, "the prompt's tokens")
            prompts.append(prompt)
        }
        let results = try search.recommend(prompts, options: DecodingOptions(beams: 10, count: 10, lengthPenalty: 1))
        for (c, got) in zip(fixture.cases, results) {
            let titles = got.map { dataset.catalog.titles[$0.item] }
            #expect(titles == c.results.map(\.title), "test sample \(c.test_index)")
            for (a, b) in zip(got, c.results) { #expect(abs(a.score - b.score) < 2e-3, "\(dataset.catalog.titles[a.item]): \(a.score) vs \(b.score)") }
        }
    }
}
