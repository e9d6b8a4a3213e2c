// The pieces together on the tiny Llama (tied embeddings): catalog trie and IG, training
// forward, each loss, backward, clipping and AdamW. A few steps must lower the loss.
import CausalLM
import Foundation
import ItemIndex
import Testing
@testable import Training

let tinyLlama = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("CausalLMTests/Fixtures/tiny-llama")

@Suite("Training loop on a tiny model")
struct TrainingLoopTests {
    /// Catalog responses (EOS = 2) and samples (prompt, target item).
    static let catalog: [[Int32]] = [[30, 41, 52, 2], [30, 41, 63, 2], [30, 77, 2], [88, 2]]
    static let samples: [([Int32], Int)] = [([5, 6, 7, 8], 0), ([9, 10, 11], 1), ([5, 12, 13, 14], 2), ([15, 16], 3), ([5, 6, 17], 0)]

    func run(_ kind: LossKind, steps: Int) throws -> [Double] {
        let model = try DecoderModel(huggingFace: tinyLlama)
        let trie = try TokenTrie(sequences: Self.catalog)
        var counts = [Int](repeating: 0, count: Self.catalog.count)
        for s in Self.samples { counts[s.1] += 1 }
        let ig = InformationGain(trie: trie, targetCounts: counts, eosTokenID: 2)
        let sequences = Self.samples.map { $0.0 + Self.catalog[$0.1] }
        // The logits at position t predict token t + 1: score the positions before each response token.
        let outputs = Self.samples.map { s in (s.0.count - 1)..<(s.0.count - 1 + Self.catalog[s.1].count) }.map(Array.init)
        let positions = Self.samples.flatMap { ig.scoredPositions(ofItem: $0.1) }
        let opt = AdamW(count: model.layout.count, settings: AdamWSettings(weightDecay: 0.01))
        let grads = ParameterBuffer(count: model.layout.count, zeroed: true)
        var ats = AdaptiveTemperature()
        var losses: [Double] = []
        for _ in 0..<steps {
            let (logits, tape) = try model.trainForward(sequences, outputs: outputs)
            let V = model.config.vocabSize
            var settings = LossSettings(kind: kind, beta: 0.2, tau: 1)
            if kind == .msl {
                // ATS on each sample's first position with more than one valid token.
                var firsts: [(row: UnsafePointer<Float>, valid: [Int32], target: Int32)] = []
                logits.withUnsafeBufferPointer { p in
                    var row = 0
                    for s in Self.samples {
                        let pos = ig.scoredPositions(ofItem: s.1)
                        if let k = pos.firstIndex(where: { $0.valid.count > 1 }) {
                            firsts.append((p.baseAddress! + (row + k) * V, pos[k].valid, pos[k].target))
                        }
                        row += pos.count
                    }
                    ats.update(firstPositions: firsts)
                }
                settings.tau = ats.tau
                settings.scaleByTau = true
            }
            var dlogits = [Float](repeating: 0, count: logits.count)
            let loss = logits.withUnsafeBufferPointer { tokenLoss(settings, logits: $0.baseAddress!, V: V, positions: positions, grad: &dlogits) }
            losses.append(loss)
            grads.data.initialize(repeating: 0, count: grads.count)
            dlogits.withUnsafeBufferPointer { model.backward(tape, dlogits: $0.baseAddress!, grads: grads) }
            clipGradientNorm(grads.data, count: grads.count, maxNorm: 1)
            opt.update(params: model.parameters.data, grads: grads.data, lr: 5e-3)
        }
        return losses
    }

    @Test(arguments: LossKind.allCases)
    func lossFalls(_ kind: LossKind) throws {
        let losses = try run(kind, steps: 30)
        let shown = losses.map { String(format: "%.3f", $0) }
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(losses.last! < 0.5 * losses.first!, "\(kind): \(shown)")
        let falls = zip(losses, losses.dropFirst()).filter { $1 < $0 }.count
        #expect(falls >= 25, "\(kind): the loss should fall at almost every step: \(shown)")
    }
}
