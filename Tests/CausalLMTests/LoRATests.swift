// LoRA against PEFT (scripts/fixtures/make_lora_fixtures.py): the adapted model's loss and the
// gradient of every lora_A / lora_B on the tiny Llama and Qwen2 with all seven linear layers
// adapted; merging against merge_and_unload(); dropout against finite differences; gradient
// checkpointing against the plain pass; PEFT files read and written.
import Foundation
import Testing
@testable import CausalLM

private func fixtureModel(_ name: String) throws -> DecoderModel {
    try DecoderModel(huggingFace: causalFixtures.appendingPathComponent(name.replacingOccurrences(of: "_", with: "-")))
}

private func fixtureAdapter(_ name: String, _ model: DecoderModel) throws -> LoRAAdapter {
    try LoRAAdapter(peftDirectory: causalFixtures.appendingPathComponent(name.replacingOccurrences(of: "_", with: "-") + "-lora"),
                    config: model.config)
}

private let gradSequences: [[Int32]] = [[5, 17, 300, 2, 99, 410, 64], [1, 2, 3, 40, 41]]
private let gradOutputs = [[2, 3, 4, 5], [1, 2, 3]]
private let gradTargets = zip(gradSequences, gradOutputs).flatMap { seq, outs in outs.map { seq[$0 + 1] } }

@Suite("LoRA against PEFT")
struct LoRATests {
    @Test(arguments: ["tiny_llama", "tiny_qwen2"])
    func gradientsOfEveryAdapter(_ name: String) throws {
        let (fixture, reference) = try gradientFixture("\(name)_lora")
        let model = try fixtureModel(name)
        let adapter = try fixtureAdapter(name, model)
        #expect(adapter.settings.rank == 4 && adapter.settings.alpha == 8 && adapter.settings.targets == LoRATarget.allCases)
        let (logits, tape) = try model.trainForward(fixture.sequences, outputs: fixture.outputs, adapter: adapter)
        let targets = zip(fixture.sequences, fixture.outputs).flatMap { seq, outs in outs.map { seq[$0 + 1] } }
        let (loss, dlogits) = meanCrossEntropy(logits, V: model.config.vocabSize, targets: targets)
        #expect(abs(loss - fixture.loss) < 1e-4 * fixture.loss, "loss \(loss) vs \(fixture.loss)")

        let grads = ParameterBuffer(count: adapter.parameters.count, zeroed: true)
        dlogits.withUnsafeBufferPointer { model.backward(tape, dlogits: $0.baseAddress!, grads: nil, adapterGrads: grads) }
        let names = adapter.peftNames()
        #expect(names.count == fixture.tensors.count, "every adapter tensor has a reference gradient")
        for (tensor, slot) in names {
            let entry = try #require(fixture.tensors[tensor], "no reference for \(tensor)")
            #expect(entry.shape == slot.shape)
            let want = reference[entry.offset..<(entry.offset + slot.count)]
            let got = UnsafeBufferPointer(start: grads.view(slot), count: slot.count)
            let relative = relativeDifference(got, want)
            #expect(relative <= 1e-4, "\(name) \(tensor): relative error \(relative)")
        }
    }

    @Test(arguments: ["tiny_llama", "tiny_qwen2"])
    func mergedWeightsMatchMergeAndUnload(_ name: String) throws {
        struct Merged: Decodable { let ids: [Int32]; let logits: [[Float]] }
        let want = try JSONDecoder().decode(Merged.self, from: Data(contentsOf: causalFixtures.appendingPathComponent("\(name)_lora_merged.json")))
        let model = try fixtureModel(name)
        let adapter = try fixtureAdapter(name, model)
        let outputs = [Array(0..<want.ids.count)]
        let (adapted, tape) = try model.trainForward([want.ids], outputs: outputs, adapter: adapter)
        model.recycle(tape)
        adapter.merge(into: model)
        let (merged, _) = try model.trainForward([want.ids], outputs: outputs)
        let reference = want.logits.flatMap { $0 }
        #expect(relativeDifference(merged, reference) < 1e-5, "merged weights against PEFT's merge_and_unload")
        #expect(relativeDifference(adapted, reference) < 1e-5, "the adapter in the pass against PEFT's merged model")
    }

    @Test func aFreshAdapterLeavesTheModelAsItIs() throws {
        let model = try fixtureModel("tiny_llama")
        let adapter = try LoRAAdapter(settings: LoRASettings(rank: 8, alpha: 16, dropout: 0, targets: LoRATarget.allCases),
                                      config: model.config, seed: 1)
        let (base, tape) = try model.trainForward(gradSequences, outputs: gradOutputs)
        model.recycle(tape)
        let (adapted, _) = try model.trainForward(gradSequences, outputs: gradOutputs, adapter: adapter)
        #expect(base == adapted, "B starts at zero, so the update is exactly zero")
        // A is PEFT's Kaiming-uniform: within ±1/√in, and not all zero.
        let a = adapter.slots[0][.qProj]!.a
        let values = UnsafeBufferPointer(start: adapter.parameters.view(a), count: a.count)
        let bound = Float(1 / Double(model.config.hiddenSize).squareRoot())
        #expect(values.allSatisfy { abs($0) <= bound } && values.contains { abs($0) > bound / 2 })
    }

    /// With dropout the pass is still a deterministic function of the parameters for a fixed seed:
    /// central differences of the loss must match the gradient (the mask regenerated in the
    /// backward pass must be the forward pass's).
    @Test func dropoutGradientsMatchFiniteDifferences() throws {
        let model = try fixtureModel("tiny_qwen2")
        let adapter = try fixtureAdapter("tiny_qwen2", model)
        let dropped = try LoRAAdapter(settings: LoRASettings(rank: 4, alpha: 8, dropout: 0.3, targets: LoRATarget.allCases),
                                      config: model.config, seed: 0)
        dropped.parameters.data.update(from: adapter.parameters.data, count: adapter.parameters.count)
        let seed: UInt64 = 77
        func loss() throws -> Double {
            let (logits, tape) = try model.trainForward(gradSequences, outputs: gradOutputs, adapter: dropped, dropoutSeed: seed)
            model.recycle(tape)
            return meanCrossEntropy(logits, V: model.config.vocabSize, targets: gradTargets).0
        }
        let (logits, tape) = try model.trainForward(gradSequences, outputs: gradOutputs, adapter: dropped, dropoutSeed: seed)
        let (_, dlogits) = meanCrossEntropy(logits, V: model.config.vocabSize, targets: gradTargets)
        let grads = ParameterBuffer(count: dropped.parameters.count, zeroed: true)
        dlogits.withUnsafeBufferPointer { model.backward(tape, dlogits: $0.baseAddress!, grads: nil, adapterGrads: grads) }
        model.recycle(tape)
        let (noDropout, _) = try model.trainForward(gradSequences, outputs: gradOutputs, adapter: dropped)
        #expect(noDropout != logits, "dropout changes the pass")

        // The largest gradients of A and B in the first and last layer's q_proj and down_proj.
        var checked = 0
        for (l, t) in [(0, LoRATarget.qProj), (1, .downProj), (1, .vProj)] {
            for slot in [dropped.slots[l][t]!.a, dropped.slots[l][t]!.b] {
                let g = UnsafeBufferPointer(start: grads.view(slot), count: slot.count)
                let top = g.indices.sorted { abs(g[$0]) > abs(g[$1]) }.prefix(3)
                for i in top {
                    let p = dropped.parameters.view(slot) + i
                    let saved = p.pointee, h: Float = 1e-2
                    p.pointee = saved + h
                    let up = try loss()
                    p.pointee = saved - h
                    let down = try loss()
                    p.pointee = saved
                    let numeric = (up - down) / Double(2 * h)
                    #expect(abs(numeric - Double(g[i])) <= 2e-2 * abs(numeric) + 1e-4, "layer \(l) \(t) [\(i)]: \(g[i]) vs \(numeric)")
                    checked += 1
                }
            }
        }
        #expect(checked == 18)
    }

    /// Gradient checkpointing recomputes each layer in the backward pass: the same logits and
    /// the same gradients, for full fine-tuning and for adapters with dropout.
    @Test(arguments: [false, true])
    func recomputingActivationsChangesNothing(_ withAdapter: Bool) throws {
        let model = try fixtureModel("tiny_qwen2")
        let adapter = try withAdapter ? LoRAAdapter(settings: LoRASettings(rank: 4, alpha: 8, dropout: 0.2, targets: LoRATarget.allCases),
                                                    config: model.config, seed: 5) : nil
        if let adapter {
            let source = try fixtureAdapter("tiny_qwen2", model)
            adapter.parameters.data.update(from: source.parameters.data, count: source.parameters.count)
        }
        var results: [(logits: [Float], grads: [Float])] = []
        for recompute in [false, true] {
            let (logits, tape) = try model.trainForward(gradSequences, outputs: gradOutputs, adapter: adapter, dropoutSeed: 9, recompute: recompute)
            #expect(tape.recompute == recompute)
            let (_, dlogits) = meanCrossEntropy(logits, V: model.config.vocabSize, targets: gradTargets)
            let grads = ParameterBuffer(count: adapter?.parameters.count ?? model.layout.count, zeroed: true)
            dlogits.withUnsafeBufferPointer {
                model.backward(tape, dlogits: $0.baseAddress!, grads: adapter == nil ? grads : nil, adapterGrads: adapter == nil ? nil : grads)
            }
            model.recycle(tape)
            results.append((logits, Array(UnsafeBufferPointer(start: grads.data, count: grads.count))))
        }
        #expect(results[0].logits == results[1].logits)
        #expect(relativeDifference(results[1].grads, results[0].grads) < 1e-6)
    }

    @Test func peftFilesRoundTripAndBadOnesAreRefused() throws {
        let model = try fixtureModel("tiny_llama")
        let adapter = try fixtureAdapter("tiny_llama", model)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-lora-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        try adapter.save(peftDirectory: dir, baseModel: "tiny-llama")
        let back = try LoRAAdapter(peftDirectory: dir, config: model.config)
        #expect(back.settings == adapter.settings)
        #expect(memcmp(back.parameters.data, adapter.parameters.data, adapter.parameters.count * 4) == 0)

        // An adapter made for another model: shapes differ.
        let qwen = try fixtureModel("tiny_qwen2")
        #expect(throws: LoRAError.self) { try LoRAAdapter(peftDirectory: dir, config: qwen.config) }
        // A target module the model lacks.
        #expect { try LoRATarget.parse(["q_proj", "lm_head"]) } throws: { "\($0)".contains("no linear layer 'lm_head'") }
        #expect(try LoRATarget.parse(["all-linear"]) == LoRATarget.allCases)
        // Variants we do not compute.
        let configURL = dir.appendingPathComponent("adapter_config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        json["use_dora"] = true
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        #expect { try LoRAAdapter(peftDirectory: dir, config: model.config) } throws: { "\($0)".contains("use_dora") }
        #expect(throws: LoRAError.self) {
            try LoRAAdapter(settings: LoRASettings(rank: 0), config: model.config, seed: 1)
        }
    }
}
