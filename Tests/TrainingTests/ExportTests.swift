// `llmrec export` on tiny-Llama runs: the exported directory loads back (with our Hugging Face
// loader) to a model that computes the trained model's logits; a LoRA run's merged weights are
// the base plus the adapters, and its PEFT adapter reads back to the trained adapters.
import CatalogIndex
import CausalLM
import Foundation
import RecData
import Support
import Testing
import Tokenizers
@testable import Training

@Suite("Export", .serialized)
struct ExportTests {
    func scratch(_ what: String) -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-\(what)-\(UUID().uuidString.prefix(8))") }

    /// Trains two steps and returns the trainer (its model and adapter hold the final weights).
    func trainedRun(lora: LoRASettings?) throws -> Trainer {
        let (model, tokenizer) = try ModelSource.resolve(tinyLlama.path).load()
        let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: DatasetReader.open(TrainerTests.dataset), tokenizer: tokenizer), maxValid: 10)
        var p = TrainingParameters()
        p.batch = 2
        p.maxSteps = 2
        p.learningRate = 1e-2
        p.warmup = 0
        p.lora = lora
        let run = RunDirectory(scratch("run"))
        try run.prepare(RunConfig(parameters: p, model: tinyLlama.path, modelFingerprint: fingerprint(tinyLlama.path),
                                  data: TrainerTests.dataset.path, dataFingerprint: ""), resume: false)
        let trainer = try Trainer(model: model, corpus: corpus, parameters: p, run: run)
        try trainer.train(resume: false) { _ in }
        return trainer
    }

    static let probe: [[Int32]] = [[5, 17, 300, 2, 99, 410, 64]]

    func logits(_ model: DecoderModel, adapter: LoRAAdapter? = nil) throws -> [Float] {
        let (l, tape) = try model.trainForward(Self.probe, outputs: [Array(0..<7)], adapter: adapter)
        model.recycle(tape)
        return l
    }

    @Test func fullRunExportsToADirectoryThatComputesTheSame() throws {
        let trainer = try trainedRun(lora: nil)
        let out = scratch("export")
        defer { try? FileManager.default.removeItem(at: out) }
        let summary = try RunExport.export(run: trainer.run.url, checkpoint: .latest, to: out, replace: false)
        #expect(summary.step == 2 && summary.lora == nil)
        #expect(Set(summary.files).isSuperset(of: ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]))
        let (exported, tokenizer) = try ModelSource.resolve(out.path).load()
        #expect(exported.config == trainer.model.config)
        #expect(memcmp(exported.parameters.data, trainer.model.parameters.data, exported.layout.count * 4) == 0)
        #expect(try logits(exported) == logits(trainer.model))
        #expect(tokenizer.encode("Toy Story (1995)") == trainer.corpus.catalog.tokenizer.encode("Toy Story (1995)"))
        // Nothing is overwritten without --force.
        #expect { try RunExport.export(run: trainer.run.url, checkpoint: .latest, to: out, replace: false) } throws: { "\($0)".contains("--force") }
    }

    @Test func loraRunExportsMergedWeightsAndAPEFTAdapter() throws {
        let trainer = try trainedRun(lora: LoRASettings(rank: 4, alpha: 8, dropout: 0.1, targets: [.qProj, .vProj, .upProj]))
        let adapter = try #require(trainer.adapter)
        let out = scratch("export")
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try RunExport.export(run: trainer.run.url, checkpoint: .latest, to: out, replace: false)
        let (exported, _) = try ModelSource.resolve(out.path).load()
        // The adapted pass (no dropout) and the merged export agree.
        let adapted = try logits(trainer.model, adapter: adapter)
        let merged = try logits(exported)
        let worst = zip(adapted, merged).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "merged export differs from the adapted model by \(worst)")
        #expect(adapted != (try logits(trainer.model)), "the trained adapters change the model")
        let peft = try LoRAAdapter(peftDirectory: out.appendingPathComponent("adapter"), config: exported.config)
        #expect(peft.settings == adapter.settings)
        #expect(memcmp(peft.parameters.data, adapter.parameters.data, adapter.parameters.count * 4) == 0)
    }

    @Test func exportRefusesWhatIsNotARun() throws {
        #expect { try RunExport.export(run: scratch("none"), checkpoint: .best, to: scratch("x"), replace: false) }
            throws: { "\($0)".contains("not a run directory") }
    }
}
