// `llmrec export`: a run's checkpoint as a Hugging Face model directory (and a PEFT adapter).
import ArgumentParser
import Foundation
import Training

extension RunCheckpoint: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a training run's checkpoint as a Hugging Face model directory.",
        discussion: """
            DIR gets config.json, model.safetensors (float32, transformers' tensor names), \
            generation_config.json, tokenizer.json and tokenizer_config.json, and llmrec_export.json (which \
            run, checkpoint and step). LoRA adapters are merged into the weights; a LoRA run also gets \
            DIR/adapter/ (adapter_config.json, adapter_model.safetensors) for PEFT, whose base is the model \
            the run was trained on. transformers loads DIR with AutoModelForCausalLM.from_pretrained(DIR); \
            every llmrec command takes it as --model DIR.

            Example:
              llmrec export runs/igd --out models/igd
            """)

    @Argument(help: ArgumentHelp("The run directory (written by llmrec train).", valueName: "run"))
    var runDirectory: String

    @Option(help: ArgumentHelp("The directory to write.", valueName: "dir"))
    var out: String

    @Option(help: "Which checkpoint: best (lowest validation loss) or latest.")
    var checkpoint: RunCheckpoint = .best

    @Flag(help: "Replace --out if it exists.")
    var force = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let log = global.bootstrapLogging()
        let summary = try RunExport.export(run: URL(fileURLWithPath: runDirectory), checkpoint: checkpoint, to: URL(fileURLWithPath: out), replace: force)
        let loss = summary.validLoss.map { String(format: ", valid loss %.4f", $0) } ?? ""
        let lora = summary.lora.map { " (LoRA rank \($0.rank) merged; PEFT adapter in adapter/)" } ?? ""
        log.info("exported \(checkpoint.rawValue) checkpoint of step \(summary.step)\(loss)")
        print("wrote \(out)\(lora): \(summary.files.joined(separator: ", "))")
    }
}
