// `llmrec export`: a training run's chosen checkpoint as a Hugging Face model directory that
// transformers (and llmrec) load as is — LoRA adapters merged into the weights — plus, for a
// LoRA run, the adapters alone in PEFT's format under adapter/.
import CausalLM
import Foundation
import Support
import Tokenizers

public enum RunCheckpoint: String, CaseIterable, Sendable {
    /// The lowest validation loss (the default: never chosen on test).
    case best
    /// The last one written, as --resume would continue it.
    case latest
}

public enum RunExport {
    public struct Summary: Sendable {
        public var step: Int
        public var validLoss: Double?
        public var lora: LoRASettings?
        public var files: [String]
    }

    /// A trained model: the run's base model with the checkpoint's weights (LoRA merged).
    public struct TrainedModel {
        public let model: DecoderModel
        public let tokenizer: BPETokenizer
        public let config: RunConfig
        public let state: LoopState
        public let adapter: LoRAAdapter?
    }

    /// Whether `path` is a run directory (config.json written by llmrec train).
    public static func isRun(_ path: String) -> Bool {
        (try? RunDirectory(URL(fileURLWithPath: path)).readConfig()) != nil
    }

    /// Loads the run's base model and puts the checkpoint's weights in it.
    public static func loadModel(run url: URL, checkpoint: RunCheckpoint) throws -> TrainedModel {
        let run = RunDirectory(url)
        let config = try run.readConfig()
        let checkpointURL = checkpoint == .best ? run.best : run.latest
        guard FileManager.default.fileExists(atPath: checkpointURL.path) else {
            throw RunError.noCheckpoint(url.path, which: checkpointURL.lastPathComponent)
        }
        let source = try ModelSource.resolve(config.model)
        let now = fingerprint(source.path)
        guard now == config.modelFingerprint else {
            throw RunError.modelChanged(config.model, trained: config.modelFingerprint, now: now)
        }
        let state = try run.loadState(from: checkpointURL)
        let (model, tokenizer) = try source.load()
        var adapter: LoRAAdapter?
        if let settings = config.parameters.lora {
            let a = try LoRAAdapter(settings: settings, config: model.config, seed: 0)
            try run.load(Trainer.adapterFile, from: checkpointURL, into: a.parameters.data, count: a.parameters.count)
            a.merge(into: model)
            adapter = a
        } else {
            try run.load(Trainer.modelFile, from: checkpointURL, into: model.parameters.data, count: model.layout.count)
        }
        return TrainedModel(model: model, tokenizer: tokenizer, config: config, state: state, adapter: adapter)
    }

    /// Reads RUN's config and checkpoint, rebuilds the model and writes `out` (atomically).
    public static func export(run url: URL, checkpoint: RunCheckpoint, to out: URL, replace: Bool) throws -> Summary {
        let trained = try loadModel(run: url, checkpoint: checkpoint)
        let (model, tokenizer, config, state, adapter) = (trained.model, trained.tokenizer, trained.config, trained.state, trained.adapter)
        try AtomicDirectory.write(to: out, replace: replace) { dir in
            try model.saveHuggingFace(to: dir.staging, tokenizer: tokenizer)
            try adapter?.save(peftDirectory: dir.file("adapter"), baseModel: config.model)
            var provenance: [String: Any] = ["run": url.path, "checkpoint": checkpoint.rawValue, "step": state.step,
                                             "base_model": config.model, "llmrec": LLMRecVersion.current]
            if let v = state.bestValidLoss, checkpoint == .best { provenance["valid_loss"] = v }
            try JSONSerialization.data(withJSONObject: provenance, options: [.prettyPrinted, .sortedKeys]).write(to: dir.file("llmrec_export.json"))
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: out.path).sorted()) ?? []
        return Summary(step: checkpoint == .best ? state.bestStep ?? state.step : state.step, validLoss: state.bestValidLoss,
                       lora: config.parameters.lora, files: files)
    }
}
