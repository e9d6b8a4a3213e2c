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

    /// The fast kernels this CPU has (a CPU with AMX runs the AVX512-BF16 kernel too, as Zen 4 would).
    static let fastKernels = PanelWeights.BF16Kernel.allCases.filter { $0.available && $0 != .portable }

    /// How far bf16 moves prompt `name` from float32: the float32 top 50 against transformers'
    /// float32 logits, the whole vocabulary against our float32 pass (which matches transformers
    /// within 1e-3), and the teacher-forced log-probability of every position; beside autocast's.
    func deviations(_ name: String, _ packed: InferenceWeights) throws -> (ours: [Double], autocast: [Double]) {
        let model = try #require(smolLM2)
        let c = try #require(autocastCases.first { $0.name == name }), prompt = try #require(logitCases.first { $0.name == name })
        let V = model.config.vocabSize, ids = prompt.ids, last = ids.count - 1
        let bf16 = try allLogits(ids, packed), fp32 = try allLogits(ids, nil)
        let top = zip(c.top_ids, c.fp32_top_logits).map { abs(Double(bf16[last * V + $0]) - $1) }.max()!
        let vocabulary = Double((0..<V).map { abs(bf16[last * V + $0] - fp32[last * V + $0]) }.max()!)
        let tokens = zip(tokenLogprobs(bf16, ids: ids, V: V), prompt.token_logprobs).map { abs($0 - $1) }.max() ?? 0
        return ([top, vocabulary, tokens], [c.autocast_top_deviation, c.autocast_vocabulary_deviation, c.autocast_token_logprob_deviation])
    }

    static let measures = ["top-50 logits", "vocabulary", "token log-probabilities"]

    /// On average over the fixture prompts, bf16 moves the logits no more than autocast does (the
    /// issue's bar), and on no single prompt more than 1.5× autocast's move: one prompt's largest
    /// deviation is one draw of a chaotic process (which activations round to the neighbouring
    /// bf16 value); measured per prompt, ours lies between 0.4× and 1.2× of autocast's.
    @Test(arguments: fastKernels)
    func deviatesFromFloat32AboutAsMuchAsAutocast(_ kernel: PanelWeights.BF16Kernel) throws {
        let model = try #require(smolLM2)
        let packed = try #require(kernel == .best ? Self.bf16 : InferenceWeights.packed(model, precision: .bf16, bf16Kernel: kernel))
        var ours = [0.0, 0.0, 0.0], theirs = [0.0, 0.0, 0.0]
        for c in autocastCases {
            let (measured, autocast) = try deviations(c.name, packed)
            for (k, what) in Self.measures.enumerated() {
                #expect(measured[k] <= 1.5 * autocast[k], "\(kernel) \(c.name) \(what): \(measured[k]), autocast \(autocast[k])")
                ours[k] += measured[k]
                theirs[k] += autocast[k]
            }
            #expect(measured[1] > 1e-3, "bf16 equals float32: the products did not run in bf16")
        }
        for (k, what) in Self.measures.enumerated() {
            #expect(ours[k] <= theirs[k], "\(kernel) \(what): mean \(ours[k] / 4), autocast's \(theirs[k] / 4)")
        }
    }

    /// The portable loop (what CPUs without AVX512-BF16 run) on the short prompt, as above. The
    /// kernels do not give identical logits: the same products summed in another order round a
    /// few activations to the neighbouring bf16 value, and 30 layers carry that on.
    @Test func thePortableKernelDeviatesAboutAsMuchAsAutocast() throws {
        let model = try #require(smolLM2)
        let packed = try #require(InferenceWeights.packed(model, precision: .bf16, bf16Kernel: .portable))
        let (measured, autocast) = try deviations("short", packed)
        for (k, what) in Self.measures.enumerated() {
            #expect(measured[k] <= 1.5 * autocast[k], "portable \(what): \(measured[k]), autocast \(autocast[k])")
        }
    }

    /// Every product runs in bf16, whatever the weight was loaded from: the GGUF's Q4_1 and Q8_0
    /// blocks stay blocks and expand to the bf16 values of the dequantised weights, so the logits
    /// are those of bf16 panels packed from those weights, bit for bit (the rounding bf16 adds to
    /// quantised values: docs/PERFORMANCE.md).
    @Test func blocksGiveTheBFloat16PanelsLogitsExactly() throws {
        let model = try #require(smolLM2), blocks = try #require(Self.bf16)
        let panels = try #require(InferenceWeights.packed(model, precision: .bf16, keepBlocks: false))
        #expect(blocks.precision == .bf16 && panels.precision == .bf16)
        // The Q4_1 layers stay blocks; the Q8_0 head is packed as bf16 (too few bytes saved to expand).
        #expect(blocks.blockMatrices.kept == 4 * model.config.layers && panels.blockMatrices.kept == 0)
        #expect(blocks.layers.allSatisfy { [$0.qkv, $0.o, $0.gateUp, $0.down].allSatisfy { $0.bf16 == .best } })
        #expect(blocks.layers.allSatisfy { $0.gateUp.manyRows != nil })
        // A prompt of a few rows (the blocks expand) and one of many (their bf16 panels).
        for name in ["short", "movie"] {
            let ids = try #require(logitCases.first { $0.name == name }).ids
            #expect(try allLogits(ids, blocks) == allLogits(ids, panels), "\(name)")
        }
    }
}
