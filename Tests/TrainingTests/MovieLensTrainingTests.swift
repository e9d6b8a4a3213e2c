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
    }
}
