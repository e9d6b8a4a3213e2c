// The real SmolLM2 in bf16 against transformers' float32 logits (smollm2_logits.json), held to
// how far PyTorch's own bf16 autocast moves the same model on the same prompts
// (smollm2_bf16.json, scripts/fixtures/make_bf16_fixtures.py).
import Foundation
import Kernels
import Testing
@testable import CausalLM

struct AutocastCase: Decodable {
    let name: String
    let top_ids: [Int]
    let fp32_top_logits: [Double]
    let autocast_top_deviation: Double
    let autocast_vocabulary_deviation: Double
    let autocast_token_logprob_deviation: Double
}

let autocastCases: [AutocastCase] = {
    struct Doc: Decodable { let cases: [AutocastCase] }
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/smollm2_bf16.json")
    return (try? JSONDecoder().decode(Doc.self, from: Data(contentsOf: url)).cases) ?? []
}()

@Suite("bf16 logits", .enabled(if: smolLM2 != nil, "needs SmolLM2 (scripts/fetch-assets.sh)"))
struct BF16LogitsTests {
    static let bf16 = smolLM2.flatMap { InferenceWeights.packed($0, precision: .bf16) }

    func allLogits(_ ids: [Int32], _ packed: InferenceWeights?) throws -> [Float] {
        let model = try #require(smolLM2)
        return try model.forward([ids], cache: KVCache(config: model.config, slots: 1, capacity: ids.count), logits: .all, packed: packed)
    }

    @Test(arguments: autocastCases.map(\.name))
    func deviatesFromFloat32NoMoreThanAutocast(_ name: String) throws {
        let model = try #require(smolLM2)
        let c = try #require(autocastCases.first { $0.name == name }), prompt = try #require(logitCases.first { $0.name == name })
        let V = model.config.vocabSize, ids = prompt.ids
        let bf16 = try allLogits(ids, #require(Self.bf16)), fp32 = try allLogits(ids, nil)
        let last = ids.count - 1
        // The float32 top 50, against transformers' float32 logits.
        let top = zip(c.top_ids, c.fp32_top_logits).map { abs(Double(bf16[last * V + $0]) - $1) }.max()!
        #expect(top <= c.autocast_top_deviation, "\(name): top-50 logits move \(top), autocast \(c.autocast_top_deviation)")
        // The whole vocabulary, against our float32 pass (which matches transformers within 1e-3).
        let vocabulary = (0..<V).map { abs(bf16[last * V + $0] - fp32[last * V + $0]) }.max()!
        #expect(Double(vocabulary) <= c.autocast_vocabulary_deviation, "\(name): \(vocabulary), autocast \(c.autocast_vocabulary_deviation)")
        // bf16 really ran: its rounding moves the logits visibly.
        #expect(vocabulary > 1e-3)
        // Teacher-forced log-probabilities at every position.
        let lp = tokenLogprobs(bf16, ids: ids, V: V)
        let worst = zip(lp, prompt.token_logprobs).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= c.autocast_token_logprob_deviation, "\(name): token log-probabilities move \(worst), autocast \(c.autocast_token_logprob_deviation)")
    }

    /// Every kernel this CPU has, the portable loop (what CPUs without AVX512-BF16 run) included,
    /// keeps within autocast's deviation. The kernels do not give identical logits: the same
    /// products summed in another order round a few activations to the neighbouring bf16 value,
    /// and 30 layers carry that on (about 0.1 in a logit, under autocast's 0.2–0.4).
    @Test(arguments: PanelWeights.BF16Kernel.allCases.filter(\.available))
    func everyKernelDeviatesNoMoreThanAutocast(_ kernel: PanelWeights.BF16Kernel) throws {
        let model = try #require(smolLM2)
        let packed = try #require(InferenceWeights.packed(model, precision: .bf16, bf16Kernel: kernel))
        let c = try #require(autocastCases.first { $0.name == "short" }), ids = try #require(logitCases.first { $0.name == "short" }).ids
        let cache = { KVCache(config: model.config, slots: 1, capacity: ids.count) }
        let bf16 = try model.forward([ids], cache: cache(), packed: packed), fp32 = try model.forward([ids], cache: cache())
        let vocabulary = zip(bf16, fp32).map { abs($0 - $1) }.max()!
        #expect(Double(vocabulary) <= c.autocast_vocabulary_deviation, "\(kernel): \(vocabulary), autocast \(c.autocast_vocabulary_deviation)")
        let top = zip(c.top_ids, c.fp32_top_logits).map { abs(Double(bf16[$0]) - $1) }.max()!
        #expect(top <= c.autocast_top_deviation, "\(kernel): top-50 logits move \(top), autocast \(c.autocast_top_deviation)")
    }

    /// Every weight is packed as bf16, whatever it was loaded from; the Q4_1 and Q8_0 values
    /// that bf16 cannot hold are rounded (docs/PERFORMANCE.md reports how many and by how much).
    @Test func everyMatrixIsBFloat16() throws {
        let packed = try #require(Self.bf16)
        #expect(packed.precision == .bf16)
        #expect(packed.blockMatrices.kept == 0)
        #expect(packed.layers.allSatisfy { [$0.qkv, $0.o, $0.gateUp, $0.down].allSatisfy { $0.bf16 == .best } })
    }
}
