// Loading what a user passes as --model to a recommending command: a .gguf file, a Hugging Face
// directory, the alias smollm2, or a training run directory (its best or latest checkpoint on
// the base model it was trained from, LoRA adapters merged). One function for eval, recommend,
// serve, export and studies.
import CausalLM
import Foundation
import RecData
import Support
import Tokenizers

public enum RunCheckpoint: String, CaseIterable, Sendable {
    /// The lowest validation loss (the default: never chosen on test).
    case best
    /// The last one written, as --resume would continue it.
    case latest
}

public enum ModelOrRun {
    /// A model ready to recommend with, and what to call it in tables and logs.
    public struct Loaded {
        public let model: DecoderModel
        public let tokenizer: BPETokenizer
        /// The path, or for a run its name, checkpoint and step.
        public let name: String
        /// How to prompt it: a run's training format; windows for any other model.
        public var format = SampleFormat.windows
    }

    /// A run's model, or any other --model.
    public static func load(_ spec: String, checkpoint: RunCheckpoint) throws -> Loaded {
        if isRun(spec) {
            let trained = try load(run: URL(fileURLWithPath: spec), checkpoint: checkpoint)
            return Loaded(model: trained.model, tokenizer: trained.tokenizer,
                          name: "\(URL(fileURLWithPath: spec).lastPathComponent) (\(checkpoint.rawValue), step \(trained.state.bestStep ?? trained.state.step))",
                          format: trained.config.parameters.format)
        }
        let (model, tokenizer) = try ModelSource.resolve(spec).load()
        return Loaded(model: model, tokenizer: tokenizer, name: spec)
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
    public static func load(run url: URL, checkpoint: RunCheckpoint) throws -> TrainedModel {
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
}
