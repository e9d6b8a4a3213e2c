// `llmrec train`: fine-tune a model on a prepared dataset with one of the four losses.
import ArgumentParser
import CatalogIndex
import CausalLM
import CUDAModel
import Foundation
import RecData
import Support
import Training

extension LossKind: ExpressibleByArgument {}
extension SampleFormat: ExpressibleByArgument {}
extension LRSchedule: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune a model on a prepared dataset (full fine-tuning or LoRA).",
        discussion: """
            With --samples windows (the default) each training sample is its prompt followed by the \
            target's response ("Title" then EOS); only response tokens are scored. With --samples sequences \
            each user's training items, in time order, are one sequence (a short header, then each item's \
            response tokens), cut into chunks of at most --max-tokens tokens; every training target is \
            scored once per epoch, with at least the 10 items before it (the dataset's --history) as \
            context. eval, recommend, serve and export prompt a run in the format it was trained in. Losses: ce (cross-entropy over the vocabulary), igd (zero-IG \
            tokens weighted by --beta), msl (softmax over the tokens the catalog allows, temperature --tau \
            or --ats), msl+igd. Every weight is trained (--full, the default) or, with --lora-rank, LoRA \
            adapters on a frozen base. The run directory gets config.json, log.jsonl, checkpoint-latest/ \
            (for --resume) and checkpoint-best/ (lowest validation loss); `llmrec export` turns a run into \
            a Hugging Face directory. Ctrl-C (SIGINT or SIGTERM) stops after the current step, saving \
            checkpoint-latest there, so that --resume repeats nothing; a second Ctrl-C stops at once.

            Examples:
              llmrec train --model smollm2 --data data/ml-100k --out runs/igd --loss igd --max-steps 100
              llmrec train --model smollm2 --data data/ml-100k --out runs/msl-lora --loss msl --ats --lora-rank 8 --lr 1e-3
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DatasetOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: ArgumentHelp("The run directory to write.", valueName: "dir"))
    var out: String

    @Option(help: "The loss: ce, igd, msl or msl+igd.")
    var loss: LossKind = .ce

    @Option(help: "IGD's weight of zero-IG tokens (EOS included).")
    var beta: Double = 0.1

    @Option(help: "MSL's fixed temperature.")
    var tau: Double = 1.0

    @Flag(help: "MSL's adaptive temperature (starts at 1.5; the loss is multiplied by τ).")
    var ats = false

    @Option(help: ArgumentHelp("With --ats: read each sample's first response position with at least this many valid tokens. Default: the smallest where ATS's C = ln(0.25·N) > 0.01, i.e. 5.",
                               valueName: "n"))
    var atsMinValid: Int?

    @Option(help: "Peak learning rate.")
    var lr: Double = 1e-4

    @Option(help: "Linear warm-up steps.")
    var warmup: Int = 10

    @Option(help: "Schedule after warm-up: cosine (to 0) or constant.")
    var schedule: LRSchedule = .cosine

    @Option(help: "Passes over the training split.")
    var epochs: Int = 1

    @Option(help: "Stop after this many optimiser steps.")
    var maxSteps: Int?

    @Option(help: ArgumentHelp("Train until this many forward tokens have passed, instead of --epochs (the log counts them).", valueName: "n"))
    var trainTokens: Int?

    @Option(help: "Training rows: windows (one target after the instruction prompt) or sequences (each user's items, every target scored).")
    var samples: SampleFormat = .windows

    @Option(help: ArgumentHelp("With --samples sequences: the longest row in tokens; longer users are cut into chunks. (default: \(SequenceChunks.defaultMaxTokens))",
                               valueName: "n"))
    var maxTokens: Int?

    @Option(help: "Samples (or sequence chunks) per micro-batch.")
    var batch: Int = 8

    @Option(help: "Micro-batches per optimiser step.")
    var gradAccum: Int = 1

    @Option(help: "Clip the gradient to this global norm.")
    var clip: Double = 1.0

    @Option(help: "AdamW's decoupled weight decay.")
    var weightDecay: Double = 0

    @Option(help: "Validate and checkpoint every this many steps (0: only at the end).")
    var evalEvery: Int = 50

    @Option(help: "Validation samples (from the start of the valid split).")
    var validSamples: Int = 200

    @Option(help: "Seed of the batch order.")
    var seed: UInt64 = 42

    @Flag(help: "Train every weight of the model (the default unless --lora-rank is given).")
    var full = false

    @Option(help: ArgumentHelp("Train LoRA adapters of this rank on a frozen base instead of every weight.", valueName: "r"))
    var loraRank: Int?

    @Option(help: ArgumentHelp("LoRA's alpha: updates are scaled by alpha / rank. (default: twice the rank)", valueName: "alpha"))
    var loraAlpha: Double?

    @Option(help: "Dropout on the adapters' inputs.")
    var loraDropout: Double = 0.05

    @Option(help: ArgumentHelp("Comma-separated layers to adapt: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, or all-linear.",
                               valueName: "modules"))
    var loraTargets: String = "q_proj,v_proj"

    @Flag(help: "Recompute each layer's activations in the backward pass instead of keeping them: less memory, about a third more time, the same results.")
    var gradientCheckpointing = false

    @OptionGroup var precisionOptions: PrecisionOptions

    @Flag(help: "Continue the run in --out from its latest checkpoint (the settings must be the same).")
    var resume = false

    @Flag(help: "Skip steps whose loss or gradient is NaN or Inf instead of stopping.")
    var skipNonfinite = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if full, loraRank != nil { throw ValidationError("--full and --lora-rank exclude each other: train every weight, or adapters.") }
        if loraRank == nil, loraAlpha != nil || loraTargets != "q_proj,v_proj" || loraDropout != 0.05 {
            throw ValidationError("--lora-alpha, --lora-dropout and --lora-targets need --lora-rank.")
        }
        _ = try LoRATarget.parse(loraNames)
        // The rules every run meets (Training/TrainingSettingRules.swift), as a plan's are checked.
        do { try parameters.check { $0.option } } catch { throw ValidationError(error.message + ".") }
    }

    var loraNames: [String] { loraTargets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    var parameters: TrainingParameters {
        var p = TrainingParameters()
        p.loss = loss
        p.beta = beta
        p.tau = tau
        p.ats = ats
        p.atsMinValid = atsMinValid
        p.learningRate = lr
        p.warmup = warmup
        p.schedule = schedule
        p.epochs = epochs
        p.maxSteps = maxSteps
        p.trainTokens = trainTokens
        p.samples = samples == .windows ? nil : samples
        p.maxTokens = maxTokens
        p.batch = batch
        p.gradAccum = gradAccum
        p.clipNorm = clip
        p.weightDecay = weightDecay
        p.seed = seed
        p.evalEvery = evalEvery
        p.validSamples = validSamples
        p.skipNonFinite = skipNonfinite
        p.precision = precisionOptions.precision == .bf16 ? .bf16 : nil
        if let r = loraRank {
            // validate() has parsed the targets already.
            p.lora = LoRASettings(rank: r, alpha: loraAlpha, dropout: loraDropout,
                                  targets: (try? LoRATarget.parse(loraNames)) ?? LoRATarget.defaults)
        }
        return p
    }

    func run() throws {
        let log = global.prepareForCompute()
        _ = precisionOptions.chosen(log: log)
        let source = try modelOptions.source()
        let dataset = try dataOptions.open()
        let config = RunConfig(parameters: parameters, model: source.path, modelFingerprint: fingerprint(source.path),
                               data: dataset.directory.path, dataFingerprint: fingerprint(dataset.directory.appendingPathComponent(DatasetFile.manifest).path)
                                   + "-" + fingerprint(dataset.directory.appendingPathComponent(DatasetFile.split(.train)).path))
        let runDir = RunDirectory(URL(fileURLWithPath: out))
        try runDir.check(config, resume: resume)
        let (model, tokenizer) = try source.load()
        let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: dataset, tokenizer: tokenizer), maxValid: validSamples,
                                        format: parameters.format, maxTokens: parameters.chunkTokens)
        if let note = corpus.validationSource { log.notice("\(note)") }
        // Everything is checked before the run directory is written.
        let engine: ((LoRAAdapter?) throws -> TrainingEngine)? = deviceOptions.device == .cpu ? nil : { [parameters, gradientCheckpointing] adapter in
            try DeviceOptions.cudaEngine(model, parameters, adapter, recompute: gradientCheckpointing, on: try deviceOptions.cudaDevice())
        }
        let trainer = try Trainer(model: model, corpus: corpus, parameters: parameters, run: runDir,
                                  recomputeActivations: gradientCheckpointing, engine: engine)
        try runDir.prepare(config, resume: resume)
        let what = trainer.adapter.map { "LoRA rank \($0.settings.rank) on \($0.settings.targets.map(\.rawValue).joined(separator: ",")) (\($0.parameters.count) weights)" }
            ?? "every weight (\(model.layout.count))"
        let rows = samples == .windows ? "\(corpus.train.count) samples" : "\(corpus.train.count) sequence chunks of at most \(parameters.chunkTokens) tokens (packed, no padding)"
        log.info("training \(model.config.architecture.rawValue), \(what), on \(rows): \(trainer.totalSteps) steps of \(batch * gradAccum), loss \(loss.rawValue)")
        let bar = ProgressBar(label: "train", total: trainer.totalSteps)
        let terminal = isatty(STDERR_FILENO) == 1
        var lastStep = ""
        InterruptCleanup.stopGracefully()
        trainer.stopRequested = { InterruptCleanup.stopRequested }
        do {
            try trainer.train(resume: resume) { event in
                switch event {
                case .step(let step, let total, let loss, let lr, let tau, let tps, let norm):
                    bar.update(step)
                    lastStep = String(format: "step %d/%d: loss %.4f, lr %.2e, %.0f tokens/s, grad norm %.3f", step, total, loss, lr, tps, norm)
                        + (tau.map { String(format: ", tau %.3f", $0) } ?? "")
                    // On a terminal the bar shows progress; the last step's line follows it.
                    if !terminal { print(lastStep) }
                case .skipped(let step, let reason):
                    log.warning("step \(step) skipped: \(reason)")
                case .validation(let step, let loss, let best):
                    print(String(format: "step %d: valid loss %.4f%@", step, loss, best ? " (best)" : ""))
                case .checkpoint:
                    break
                }
            }
        } catch let stopped as TrainingStopped {
            bar.finish()
            FileHandle.standardError.write(Data("llmrec: training stopped after step \(stopped.step) of \(stopped.total), with checkpoint-latest there; the same command with --resume continues\n".utf8))
            throw ExitCode(130)
        }
        bar.finish()
        if terminal, !lastStep.isEmpty { print(lastStep) }
        print("run written to \(out): config.json, log.jsonl, checkpoint-latest/, checkpoint-best/")
    }
}
