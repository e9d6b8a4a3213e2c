// SmolLM2 in llmrec against transformers' float32 model from the same GGUF
// (scripts/fixtures/make_model_fixtures.py): last-position logits, teacher-forced
// log-likelihoods, and the KV cache and batch packing giving the same numbers.
import Foundation
import ModelFormats
import Testing
@testable import CausalLM

let smolLM2File: String = {
    let home = ProcessInfo.processInfo.environment["LLMREC_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/llmrec").path
    return home + "/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
}()

/// Loaded once for the suite: 0.5 GB of weights.
let smolLM2: DecoderModel? = FileManager.default.fileExists(atPath: smolLM2File)
    ? try? DecoderModel(gguf: GGUFFile(path: smolLM2File)) : nil

struct LogitCase: Decodable {
    let name: String
    let ids: [Int32]
    let top_ids: [Int]
    let top_logits: [Double]
    let logsumexp: Double
    let token_logprobs: [Double]
    let sequence_logprob: Double
}

let logitCases: [LogitCase] = {
    struct Doc: Decodable { let cases: [LogitCase] }
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/smollm2_logits.json")
    return (try? JSONDecoder().decode(Doc.self, from: Data(contentsOf: url)).cases) ?? []
}()

/// log p(x_t | x_<t) for t ≥ 1 from all-position logits (rows, V).
func tokenLogprobs(_ logits: [Float], ids: [Int32], V: Int) -> [Double] {
    logits.withUnsafeBufferPointer { p in
        (1..<ids.count).map { t in
            let row = p.baseAddress! + (t - 1) * V
            var m = -Float.infinity
            for v in 0..<V { m = max(m, row[v]) }
            var s = 0.0
            for v in 0..<V { s += exp(Double(row[v] - m)) }
            return Double(row[Int(ids[t])]) - (Double(m) + log(s))
        }
    }
}

@Suite("SmolLM2 parity with transformers", .enabled(if: smolLM2 != nil, "needs SmolLM2; run scripts/fetch-assets.sh"))
struct SmolLM2ParityTests {
    @Test(arguments: logitCases.map(\.name))
    func lastPositionTopLogits(_ name: String) throws {
        let c = try #require(logitCases.first { $0.name == name })
        let model = try #require(smolLM2)
        let cache = KVCache(config: model.config, slots: 1, capacity: c.ids.count)
        let logits = try model.forward([c.ids], cache: cache)
        let V = model.config.vocabSize
        #expect(logits.count == V)
        var maxDiff = 0.0
        for (id, want) in zip(c.top_ids.prefix(20), c.top_logits) {
            maxDiff = max(maxDiff, abs(Double(logits[id]) - want))
        }
        #expect(maxDiff <= 1e-3, "\(name): top-20 logits differ by up to \(maxDiff)")
        // Same ids, and the same order wherever transformers' gap exceeds the tolerance.
        let ours = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(20)
        #expect(Set(ours) == Set(c.top_ids.prefix(20)) || c.top_logits[19] - c.top_logits[20] < 2e-3)
        for i in 0..<19 where c.top_logits[i] - c.top_logits[i + 1] > 2e-3 {
            #expect(logits[c.top_ids[i]] > logits[c.top_ids[i + 1]], "\(name): order at \(i)")
        }
        let lse = logits.withUnsafeBufferPointer { p in
            let m = p.max()!
            return Double(m) + log(p.reduce(0.0) { $0 + exp(Double($1 - m)) })
        }
        #expect(abs(lse - c.logsumexp) <= 1e-3)
    }

    @Test(arguments: logitCases.map(\.name))
    func teacherForcedLogLikelihood(_ name: String) throws {
        let c = try #require(logitCases.first { $0.name == name })
        let model = try #require(smolLM2)
        let cache = KVCache(config: model.config, slots: 1, capacity: c.ids.count)
        let logits = try model.forward([c.ids], cache: cache, logits: .all)
        let lp = tokenLogprobs(logits, ids: c.ids, V: model.config.vocabSize)
        let total = lp.reduce(0, +)
        #expect(abs(total - c.sequence_logprob) <= 1e-3 * abs(c.sequence_logprob), "\(name): \(total) vs \(c.sequence_logprob)")
        let worst = zip(lp, c.token_logprobs).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 2e-3, "\(name): worst token log-prob difference \(worst)")
    }

    @Test func kvCacheDecodingEqualsFullForward() throws {
        let model = try #require(smolLM2)
        let ids = try #require(logitCases.first { $0.name == "chat" }).ids
        let full = try model.forward([ids], cache: KVCache(config: model.config, slots: 1, capacity: ids.count), logits: .all)
        let V = model.config.vocabSize
        // Prompt in one go, then one token at a time.
        let cache = KVCache(config: model.config, slots: 1, capacity: ids.count)
        let split = ids.count - 5
        var steps = [try model.forward([Array(ids[..<split])], cache: cache)]
        for t in split..<ids.count - 1 { steps.append(try model.forward([[ids[t]]], cache: cache)) }
        for (k, step) in steps.enumerated() {
            let row = split - 1 + k
            let ref = Array(full[(row * V)..<((row + 1) * V)])
            let diff = zip(step, ref).map { abs($0 - $1) }.max()!
            #expect(diff <= 1e-4, "position \(row): cached decoding differs by \(diff)")
        }
        #expect(cache.lengths == [ids.count - 1])
    }

    @Test func packedBatchEqualsOneAtATime() throws {
        let model = try #require(smolLM2)
        let seqs = logitCases.prefix(3).map(\.ids)
        let cache = KVCache(config: model.config, slots: seqs.count, capacity: 128)
        let batched = try model.forward(seqs, cache: cache)
        let V = model.config.vocabSize
        for (b, s) in seqs.enumerated() {
            let alone = try model.forward([s], cache: KVCache(config: model.config, slots: 1, capacity: 128))
            let diff = zip(alone, batched[(b * V)..<((b + 1) * V)]).map { abs($0 - $1) }.max()!
            #expect(diff <= 1e-4, "sequence \(b) differs by \(diff) when batched")
        }
    }
}
