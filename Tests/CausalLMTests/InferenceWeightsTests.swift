// The packed inference weights of the real SmolLM2 (Q4_1 layers, a Q8_0 embedding): kept in
// their GGUF blocks, they give bit-for-bit the logits of the Float32 panels, which give those of
// the plain forward pass within rounding; a weight changed after loading is packed from Float32.
import Foundation
import Kernels
import ModelFormats
import Testing
@testable import CausalLM

@Suite("Inference weights", .enabled(if: smolLM2 != nil && PanelWeights.available, "needs SmolLM2 (scripts/fetch-assets.sh) and AVX-512"))
struct InferenceWeightsTests {
    /// Logits of every position of the fixture prompts, batched.
    func logits(_ model: DecoderModel, _ packed: InferenceWeights?) throws -> [Float] {
        let seqs = logitCases.prefix(3).map(\.ids)
        return try model.forward(seqs, cache: KVCache(config: model.config, slots: seqs.count, capacity: 128), logits: .all, packed: packed)
    }

    @Test func blocksGiveTheFloat32PanelsLogitsExactly() throws {
        let model = try #require(smolLM2)
        let blocks = try #require(InferenceWeights.packed(model))
        let floats = try #require(InferenceWeights.packed(model, keepBlocks: false))
        #expect(blocks.blockMatrices.kept == 4 * model.config.layers + 1 && blocks.blockMatrices.of == 4 * model.config.layers + 1)
        #expect(floats.blockMatrices.kept == 0)
        #expect(blocks.bytes * 4 < floats.bytes, "\(blocks.bytes) bytes in blocks against \(floats.bytes) as Float32")
        let a = try logits(model, blocks), b = try logits(model, floats), plain = try logits(model, nil)
        #expect(a == b)
        let diff = zip(a, plain).map { abs($0 - $1) }.max()!
        #expect(diff <= 1e-3, "packed and plain forward differ by \(diff)")
    }

    @Test func aWeightChangedAfterLoadingIsPackedFromItsFloats() throws {
        // A second copy of the model, since the shared one must stay as loaded.
        let model = try DecoderModel(gguf: GGUFFile(path: smolLM2File))
        let o = model.w(.wo, 3)
        o[5 * model.config.hiddenSize + 7] += 0.25
        let packed = try #require(InferenceWeights.packed(model))
        #expect(packed.layers[3].o.code == nil)
        #expect(packed.blockMatrices.kept == 4 * model.config.layers)
        let floats = try #require(InferenceWeights.packed(model, keepBlocks: false))
        #expect(try logits(model, packed) == logits(model, floats))
    }
}
