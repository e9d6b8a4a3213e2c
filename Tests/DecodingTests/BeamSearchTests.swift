// Constrained beam search on the tiny Llama and a hand-made catalog: with at least as many
// beams as items it must rank every item exactly as brute force does — each item's response
// teacher-forced through the full forward pass (no cache sharing) and scored by the definition
// (written out again here, independently of the decoder) — for every option combination.
import CausalLM
import Foundation
import ItemIndex
import Testing
@testable import Decoding

let tinyLlamaDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("CausalLMTests/Fixtures/tiny-llama")

/// Items sharing prefixes of different lengths, one single-token title; EOS = 2.
let catalog: [[Int32]] = [[30, 41, 52, 2], [30, 41, 63, 2], [30, 77, 2], [88, 2], [30, 41, 52, 9, 2], [101, 7, 7, 2], [88, 5, 2]]
let counts = [3, 1, 2, 5, 1, 1, 2]
let prompts: [[Int32]] = [[5, 6, 7, 8, 9, 10], [11, 12, 13], [5, 6, 7, 100, 200, 300, 301, 17, 18]]

func makeSearch() throws -> ConstrainedBeamSearch {
    let model = try DecoderModel(huggingFace: tinyLlamaDir)
    let ig = InformationGain(trie: try TokenTrie(sequences: catalog), targetCounts: counts, eosTokenID: 2)
    return ConstrainedBeamSearch(model: model, ig: ig)
}

/// Every item scored by the definition from a full forward pass of prompt + response.
func bruteForce(_ search: ConstrainedBeamSearch, prompt: [Int32], options: DecodingOptions) throws -> [ScoredItem] {
    let model = search.model, ig = search.ig, V = model.config.vocabSize
    var out: [ScoredItem] = []
    for (i, seq) in catalog.enumerated() {
        let cache = KVCache(config: model.config, slots: 1, capacity: 64)
        let logits = try model.forward([prompt + seq.dropLast()], cache: cache, logits: .all)
        var node = TokenTrie.root, sum = 0.0
        for (k, token) in seq.enumerated() {
            let row = Array(logits[((prompt.count - 1 + k) * V)..<((prompt.count + k) * V)]).map(Double.init)
            let valid = Array(ig.trie.validTokens(node))
            let pool = options.maskSoftmax ? valid.map { row[Int($0)] } : row
            let m = pool.max()!
            let lse = m + log(pool.reduce(0) { $0 + exp($1 - m) })
            var s = row[Int(token)] - lse
            if options.igdAlpha > 0, valid.count > 1 {
                let gains = valid.map { ig.gain(from: node, token: $0) }
                let (lo, hi) = (gains.min()!, gains.max()!)
                if hi > lo { s *= 1 - options.igdAlpha * (ig.gain(from: node, token: token) - lo) / (hi - lo) }
            }
            sum += s
            node = ig.trie.child(node, token)!
        }
        out.append(ScoredItem(item: i, score: sum / pow(Double(seq.count), options.lengthPenalty)))
    }
    return out.sorted { $0.score > $1.score }
}

@Suite("Constrained beam search")
struct BeamSearchTests {
    static let optionSets: [DecodingOptions] = [
        DecodingOptions(beams: 8, count: 7), DecodingOptions(beams: 8, count: 7, lengthPenalty: 1),
        DecodingOptions(beams: 8, count: 7, igdAlpha: 0.2), DecodingOptions(beams: 8, count: 7, maskSoftmax: true),
        DecodingOptions(beams: 7, count: 7, igdAlpha: 0.15, maskSoftmax: true, lengthPenalty: 1),
        DecodingOptions(beams: 10, count: 5, igdAlpha: 0.1, maskSoftmax: false, lengthPenalty: 0.5),
    ]

    @Test(arguments: optionSets)
    func enoughBeamsRankLikeBruteForce(_ options: DecodingOptions) throws {
        let search = try makeSearch()
        let results = try search.recommend(prompts, options: options)
        for (p, prompt) in prompts.enumerated() {
            let want = try bruteForce(search, prompt: prompt, options: options).prefix(options.count)
            let got = results[p]
            #expect(got.map(\.item) == want.map(\.item), "prompt \(p): \(got.map(\.item)) vs \(want.map(\.item))")
            for (a, b) in zip(got, want) { #expect(abs(a.score - b.score) < 1e-4, "item \(a.item): \(a.score) vs \(b.score)") }
        }
    }

    @Test func batchedEqualsOneAtATime() throws {
        let search = try makeSearch()
        for options in [DecodingOptions(beams: 3, count: 3), DecodingOptions(beams: 4, count: 2, igdAlpha: 0.2, maskSoftmax: true, lengthPenalty: 1)] {
            let together = try search.recommend(prompts, options: options)
            let alone = try prompts.map { try search.recommend([$0], options: options)[0] }
            #expect(together.map { $0.map(\.item) } == alone.map { $0.map(\.item) })
            for (a, b) in zip(together.joined(), alone.joined()) { #expect(abs(a.score - b.score) < 1e-5) }
        }
    }

    /// Prompts 0 and 2 begin with the header [5, 6, 7] and continue its cached keys; prompt 1
    /// does not and is encoded whole. Causal attention makes both equal to encoding every prompt.
    @Test func sharedHeaderChangesNothing() throws {
        let plain = try makeSearch()
        let shared = ConstrainedBeamSearch(model: plain.model, ig: plain.ig, sharedPrefix: [5, 6, 7])
        #expect(shared.header?.tokens == [5, 6, 7])
        for options in [Self.optionSets[0], Self.optionSets[4]] {
            let want = try plain.recommend(prompts, options: options), got = try shared.recommend(prompts, options: options)
            #expect(got.map { $0.map(\.item) } == want.map { $0.map(\.item) })
            for (a, b) in zip(got.joined(), want.joined()) { #expect(abs(a.score - b.score) < 1e-5, "\(a.score) vs \(b.score)") }
        }
    }

    /// Reading forced chains ahead ([101, 7, 7, 2] is one) changes no result: the same items and
    /// scores as decoding them one step at a time.
    @Test func readingForcedTokensAheadChangesNothing() throws {
        let ahead = try makeSearch()
        let stepwise = ConstrainedBeamSearch(model: ahead.model, ig: ahead.ig)
        stepwise.readAheadRows = 0
        for options in Self.optionSets {
            let want = try stepwise.recommend(prompts, options: options), got = try ahead.recommend(prompts, options: options)
            #expect(got.map { $0.map(\.item) } == want.map { $0.map(\.item) })
            for (a, b) in zip(got.joined(), want.joined()) { #expect(abs(a.score - b.score) < 1e-5, "\(a.score) vs \(b.score)") }
        }
    }

    @Test func fewBeamsStillGiveDistinctCatalogItems() throws {
        let search = try makeSearch()
        for b in 1...7 {
            for list in try search.recommend(prompts, options: DecodingOptions(beams: b, count: b)) {
                #expect(Set(list.map(\.item)).count == list.count, "distinct")
                #expect(list.allSatisfy { (0..<catalog.count).contains($0.item) })
                #expect(list.count >= 1 && list.count <= b)
                #expect(zip(list, list.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
            }
        }
    }

    @Test func badRequestsAreRefused() throws {
        let search = try makeSearch()
        #expect(throws: BeamSearchError.countAboveBeams(count: 5, beams: 3)) { try search.recommend(prompts, options: DecodingOptions(beams: 3, count: 5)) }
        #expect(throws: BeamSearchError.emptyPrompt(index: 1)) { try search.recommend([[5], []], options: DecodingOptions()) }
        let long = [Int32](repeating: 7, count: 600)
        #expect { try search.recommend([long], options: DecodingOptions()) } throws: { "\($0)".contains("context allows") }
    }
}

extension DecodingOptions: CustomTestStringConvertible {
    public var testDescription: String { "B=\(beams) K=\(count) α=\(igdAlpha) mask=\(maskSoftmax) λ=\(lengthPenalty)" }
}
