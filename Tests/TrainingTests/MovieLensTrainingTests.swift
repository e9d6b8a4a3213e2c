// Fine-tuning the real SmolLM2 on real MovieLens-100K samples: a few steps of each loss, full
// fine-tuning and LoRA, must lower the loss on the samples trained on and on held-out validation
// samples (both measured before and after at the same temperature, without dropout).
import CatalogIndex
import CausalLM
import Foundation
import RecData
import Support
import Testing
@testable import Training

@Suite("Fine-tuning SmolLM2 on MovieLens-100K", .serialized,
       .enabled(if: Assets.smollm2.isPresent && Assets.ml100k.isPresent, "needs SmolLM2 and MovieLens-100K; run scripts/fetch-assets.sh"))
struct MovieLensTrainingTests {
    /// 16 training and 8 validation samples with five-title histories (short prompts keep it quick);
    /// the training loss is measured on the first 8 training samples (all 16 are trained on).
    static let dataset: URL = {
        var options = BuildOptions()
        options.historyLength = 5
        options.maxTrain = 16
        options.maxValid = 8
        options.maxTest = 1
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-ml100k-train-\(UUID().uuidString.prefix(8))")
        let source = try! DataSource.resolve(dataset: "ml-100k", items: nil, format: .auto)
        _ = try! DatasetPreparation.run(source: source, options: options, out: out, replace: false)
        return out
    }()

    struct Variant: CustomTestStringConvertible, Sendable {
        let loss: LossKind
        let ats: Bool
        let lora: LoRASettings?
        var testDescription: String { "\(loss.rawValue)\(ats ? " (ATS)" : "")\(lora == nil ? "" : ", LoRA")" }
    }

    static let variants: [Variant] = [
        Variant(loss: .ce, ats: false, lora: nil), Variant(loss: .igd, ats: false, lora: nil),
        Variant(loss: .msl, ats: false, lora: nil), Variant(loss: .mslIGD, ats: true, lora: nil),
        Variant(loss: .igd, ats: false, lora: LoRASettings(rank: 8, alpha: 16, dropout: 0.05)),
        Variant(loss: .mslIGD, ats: true, lora: LoRASettings(rank: 8, alpha: 16, dropout: 0.05, targets: LoRATarget.allCases)),
    ]

    @Test(arguments: variants)
    func aFewStepsLowerTrainingAndValidationLoss(_ variant: Variant) throws {
        let (model, tokenizer) = try ModelSource.resolve("smollm2").load()
        let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: DatasetReader.open(Self.dataset), tokenizer: tokenizer), maxValid: 8)
        #expect(corpus.train.count == 16 && corpus.valid.count == 8)
        var p = TrainingParameters()
        p.loss = variant.loss
        p.ats = variant.ats
        p.lora = variant.lora
        p.batch = 4
        p.maxSteps = 4
        p.warmup = 1
        p.schedule = .constant
        p.learningRate = variant.lora == nil ? 1e-4 : 2e-3
        p.evalEvery = 0
        let run = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-ml-run-\(UUID().uuidString.prefix(8))"))
        defer { try? FileManager.default.removeItem(at: run.url) }
        try run.prepare(RunConfig(parameters: p, model: "smollm2", modelFingerprint: "", data: Self.dataset.path, dataFingerprint: ""), resume: false)
        let trainer = try Trainer(model: model, corpus: corpus, parameters: p, run: run)
        let tau = 1.5  // ATS's starting temperature; fixed for both measurements
        let before = (train: try trainer.loss(on: Array(corpus.train.prefix(8)), tau: tau), valid: try trainer.validationLoss(tau: tau))
        var steps = 0
        try trainer.train(resume: false) { if case .step = $0 { steps += 1 } }
        let after = (train: try trainer.loss(on: Array(corpus.train.prefix(8)), tau: tau), valid: try trainer.validationLoss(tau: tau))
        #expect(steps == 4)
        let shown = String(format: "train %.3f → %.3f, valid %.3f → %.3f", before.train, after.train, before.valid, after.valid)
        #expect(after.train < before.train, "\(variant.testDescription): \(shown)")
        #expect(after.valid < before.valid, "\(variant.testDescription): \(shown)")
        print("\(variant.testDescription): \(shown)")
        if variant.ats { try Self.checkATSLog(run.url.appendingPathComponent("log.jsonl"), steps: 4) }
    }

    /// SmolLM2's tokenizer splits the opening quote from the title's first word, so the trie's
    /// root has only a few children (`"`, `"'`, `"...`): the first branching position has too few
    /// valid tokens for ATS (C = ln(0.25·N₁) ≤ 0, the update skipped every step). ATS reads the
    /// first position with at least 5, where its update is defined: the title's first word.
    @Test func atsReadsTheFirstPositionWhereItsUpdateIsDefined() throws {
        let (model, tokenizer) = try ModelSource.resolve("smollm2").load()
        let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: DatasetReader.open(Self.dataset), tokenizer: tokenizer), maxValid: 8)
        #expect(AdaptiveTemperature.smallestDefinedValidSet() == 5)  // ln(0.25·4) = 0, ln(0.25·5) = 0.22
        let examples = corpus.train
        let branching = corpus.assemble(examples, atsMinValid: 2), defined = corpus.assemble(examples)
        var offset = 0
        for (i, e) in examples.enumerated() {
            let scored = corpus.ig.scoredPositions(ofItem: e.item)
            #expect(branching.firstScored[i] == offset, "the first branching position is the root")
            #expect(scored[0].valid.count < 5)
            let first = try #require(defined.firstScored[i]) - offset
            #expect(scored[first].valid.count >= 5 && scored[..<first].allSatisfy { $0.valid.count < 5 })
            offset += scored.count
        }
        var ats = AdaptiveTemperature()
        let (logits, _) = try model.trainForward(defined.sequences, outputs: defined.outputs)
        let V = model.config.vocabSize
        let step = logits.withUnsafeBufferPointer { l in
            ats.update(firstPositions: defined.firstScored.compactMap { $0 }.map { (l.baseAddress! + $0 * V, defined.positions[$0].valid, defined.positions[$0].target) })
        }
        #expect(!step.skipped && step.c > 0.01, "\(step)")
    }

    /// An ATS run logs what ATS saw each step, and the logged τ follows from it:
    /// τ_k = 0.95·τ_{k−1} + 0.05·clamp(τ*_k, 1.5, 5), one update a step at grad-accum 1.
    static func checkATSLog(_ url: URL, steps: Int) throws {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["valid_loss"] == nil }
        #expect(lines.count == steps)
        var tau = 1.5
        for line in lines {
            let star = try #require(line["tau_star"] as? Double), logged = try #require(line["tau"] as? Double)
            let c = try #require(line["ats_c"] as? Double), variance = try #require(line["ats_variance"] as? Double)
            let deltaMu = try #require(line["ats_delta_mu"] as? Double)
            #expect(c > 0.01 && variance > 0)
            #expect(abs(star - (deltaMu + max(deltaMu * deltaMu - 2 * c * variance, 0).squareRoot()) / (2 * c)) < 1e-9)
            tau = 0.95 * tau + 0.05 * min(max(star, 1.5), 5)
            #expect(abs(logged - tau) < 1e-9, "step \(line["step"] ?? "?"): τ \(logged), expected \(tau)")
            print(String(format: "ATS step %@: tau* %.3f (dmu %.3f, var %.3f, C %.3f), tau %.4f", "\(line["step"] ?? "?")", star, deltaMu, variance, c, logged))
        }
    }
}
