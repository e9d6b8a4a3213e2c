// The option groups commands share, with one name each: --model, --data, the beam search's
// options, the prompt of logits/generate, and the log level every command takes.
import ArgumentParser
import CUDABackend
import CUDAModel
import CausalLM
import Decoding
import Foundation
import Kernels
import Logging
import RecData
import Synchronization
import Tokenizers
import Training

struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The model: a .gguf file, a Hugging Face directory, or smollm2 (embedded default).",
                               valueName: "smollm2|file.gguf|dir"))
    var model: String = "smollm2"

    func source() throws -> ModelSource { try ModelSource.resolve(model) }
}

/// The prompt of `logits` and `generate`.
struct PromptOptions: ParsableArguments {
    @Option(help: "The prompt text.")
    var prompt: String

    @Flag(help: "Wrap the prompt in the model's chat template as one user message.")
    var chat = false

    func encode(_ tokenizer: BPETokenizer) throws -> [Int32] { try encodePrompt(prompt, chat: chat, tokenizer: tokenizer) }
}

/// `--data DIR`: a prepared dataset, for the commands that read one.
struct DatasetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A dataset directory written by `llmrec data prepare`.", valueName: "dir"))
    var data: String

    func open() throws -> PreparedDataset { try DatasetReader.open(URL(fileURLWithPath: data)) }
}

/// The beam search's options every recommending command takes.
struct SearchOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Beams kept per step (B); each beam ends in at most one item. (default: the largest K, at least 10)", valueName: "B"))
    var beams: Int?

    @Option(help: "IGD decoding's alpha: step scores times (1 - alpha * normalised IG); 0 turns it off (the paper uses 0.1-0.2).")
    var igdAlpha: Double = 0

    @Flag(help: "Softmax over the tokens the catalog allows at each step (MSL's constrained decoding) instead of the whole vocabulary.")
    var maskSoftmax = false

    @Option(help: "Final score = summed step scores / length^lambda: 0 as in D3, 1 as in BIGRec.")
    var lengthPenalty: Double = 0

    func beams(for count: Int) -> Int { beams ?? max(10, count) }

    func options(count: Int) -> DecodingOptions {
        DecodingOptions(beams: beams(for: count), count: count, igdAlpha: igdAlpha, maskSoftmax: maskSoftmax, lengthPenalty: lengthPenalty)
    }

    func check(count: Int) throws {
        let b = beams(for: count)
        if b < 1 { throw ValidationError("--beams must be at least 1, got \(b).") }
        if count > b { throw ValidationError("asking for \(count) items needs at least \(count) beams (--beams \(b)): each beam ends in one item.") }
        if !DecodingOptions.igdAlphaRange.contains(igdAlpha) { throw ValidationError("--igd-alpha must be in [0, 1], got \(igdAlpha).") }
        if !lengthPenalty.isFinite { throw ValidationError("--length-penalty must be a number.") }
    }
}

/// `--precision`: the arithmetic of the model's matrix products.
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The model's matrix products: fp32, or bf16 (weights and the products' inputs rounded to bfloat16, sums in Float32; norms, attention and softmax stay Float32). bf16 is fast on CPUs with AVX512-BF16 and runs a slower portable loop elsewhere.",
        valueName: "fp32|bf16"))
    var precision: Precision = .fp32

    /// The precision, after saying on `log` when bf16 will run the portable loop.
    func chosen(log: Logger) -> Precision {
        if precision == .bf16 && !PanelWeights.bf16KernelAvailable {
            log.warning("this CPU lacks AVX512-BF16: bf16 products run a portable loop, slower than fp32")
        }
        return precision
    }

    /// The model's weights packed for inference in this precision (nil in fp32 without AVX-512).
    func packed(_ model: DecoderModel, log: Logger) -> InferenceWeights? { InferenceWeights.packed(model, precision: chosen(log: log)) }
}

extension Precision: ExpressibleByArgument {}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    /// Sends logs to standard error at the chosen level. Safe to call more than once.
    func bootstrapLogging() -> Logger {
        let level = logLevel
        LoggingBootstrap.once {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: "llmrec")
    }

    /// For commands that run the model: logging, and OpenBLAS on the right CPU kernels.
    func prepareForCompute() -> Logger {
        BLASSetup.ensureCoreType()
        let log = bootstrapLogging()
        log.debug("OpenBLAS core: \(BLASSetup.detectedCore)")
        return log
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// LoggingSystem.bootstrap may run only once per process; tests run several commands.
enum LoggingBootstrap {
    private static let done = Mutex(false)

    static func once(_ body: () -> Void) {
        done.withLock { done in
            if !done { body(); done = true }
        }
    }
}

/// `--device cpu|cuda`: where the arithmetic runs.
struct DeviceOptions: ParsableArguments {
    enum Device: String, ExpressibleByArgument, CaseIterable { case cpu, cuda }

    @Option(help: ArgumentHelp(
        "Where to compute: cpu, or cuda (an NVIDIA GPU; the CUDA driver, NVRTC and cuBLAS are opened at run time, see `llmrec cuda info`).",
        valueName: "cpu|cuda"))
    var device: Device = .cpu

    /// The GPU, or a failure that says why CUDA cannot be used here.
    func cudaDevice() throws -> CUDADevice {
        do { return try CUDADevice() } catch { throw CommandFailure("--device cuda: CUDA cannot be used here: \(error)") }
    }

    /// Where a beam search's passes run: nil for the CPU (the recommender's default), else the GPU's.
    func beamPasses(_ model: DecoderModel, precision: Precision) throws -> BeamPasses? {
        guard device == .cuda else { return nil }
        return try Self.cudaPasses(model, precision: precision, on: try cudaDevice())
    }

    static func cudaPasses(_ model: DecoderModel, precision: Precision, on device: CUDADevice) throws -> BeamPasses {
        CUDABeamPasses(try CUDADecoder(model, device: device, precision: precision == .bf16 ? .bf16 : .fp32))
    }

    /// The GPU's training engine for a model, its settings and its adapter.
    static func cudaEngine(_ model: DecoderModel, _ parameters: TrainingParameters, _ adapter: LoRAAdapter?, recompute: Bool,
                           on device: CUDADevice) throws -> TrainingEngine {
        try CUDATrainingEngine(model: model, adapter: adapter, recompute: recompute, precision: parameters.precision ?? .fp32,
                               adamW: AdamWSettings(weightDecay: parameters.weightDecay), device: device)
    }
}
