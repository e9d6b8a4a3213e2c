// `llmrec export`: a training run's chosen checkpoint as a Hugging Face model directory that
// transformers (and llmrec) load as is — LoRA adapters merged into the weights — plus, for a
// LoRA run, the adapters alone in PEFT's format under adapter/.
import CausalLM
import Foundation
import Support
import Tokenizers

public enum RunExport {
    public struct Summary: Sendable {
        public var step: Int
        public var validLoss: Double?
        public var lora: LoRASettings?
        public var files: [String]
    }

    /// Reads RUN's config and checkpoint, rebuilds the model and writes `out` (atomically).
    public static func export(run url: URL, checkpoint: RunCheckpoint, to out: URL, replace: Bool) throws -> Summary {
        let trained = try ModelOrRun.load(run: url, checkpoint: checkpoint)
        let (model, tokenizer, config, state, adapter) = (trained.model, trained.tokenizer, trained.config, trained.state, trained.adapter)
        let rule = ReplaceRule(marker: "llmrec_export.json", inputs: [url.path, config.model])
        try AtomicDirectory.write(to: out, replace: replace, rule: rule) { dir in
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
