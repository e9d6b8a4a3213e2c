// `llmrec cuda bench-train`: training steps on the GPU, timed, for the side-by-side comparison
// with PyTorch in scripts/device/check.sh (scripts/device/bench_train_torch.py runs the same
// model, batch and steps there).
import ArgumentParser
import CausalLM
import CUDABackend
import CUDAModel
import Foundation
import Kernels
import Support
import Training

struct CUDABenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train",
        abstract: "Time full fine-tuning steps on the GPU: random token sequences, cross-entropy at every position, AdamW.",
        discussion: """
            Each step is forward, loss, backward, gradient clipping and the AdamW update over --batch \
            sequences of --tokens tokens. The first --warmup steps are not timed (kernel compilation, \
            memory); the median of the rest is reported, in tokens per second.
            """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("The products: fp32 (no TF32) or bf16 (bf16 operands, fp32 sums, fp32 master weights).", valueName: "fp32|bf16"))
    var precision: Precision = .bf16

    @Option(help: "Sequences per step.")
    var batch = 32

    @Option(help: "Tokens per sequence.")
    var tokens = 128

    @Option(help: "Timed steps.")
    var steps = 10

    @Option(help: "Untimed steps first.")
    var warmup = 2

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "After the timed steps, run one more with every kernel and product timed on its own (the device waits around each), and print where the time went before the result.")
    var profile = false

    func validate() throws {
        guard batch > 0, tokens > 1, steps > 0, warmup >= 0 else { throw ValidationError("--batch and --steps must be positive, --tokens at least 2") }
    }

    func run() throws {
        let model = try modelOptions.source().loadModel()
        let device: CUDADevice
        do { device = try CUDADevice() } catch { throw CommandFailure("CUDA cannot be used here: \(error)") }
        let engine = try CUDATrainingEngine(model: model, adapter: nil, recompute: false, precision: precision,
                                            adamW: AdamWSettings(weightDecay: 0), device: device)
        var random = SeededGenerator(seed: 7)
        let V = model.config.vocabSize
        var times: [Double] = []
        for step in 0..<(warmup + steps + (profile ? 1 : 0)) {
            if step == warmup + steps { device.profile = CUDAProfile() }
            let sequences = (0..<batch).map { _ in (0..<tokens).map { _ in Int32(random.below(V)) } }
            let outputs = sequences.map { Array(0..<($0.count - 1)) }
            let positions = sequences.flatMap { seq in (1..<seq.count).map { ScoredPosition(target: seq[$0], valid: [], informationGain: 1, isEOS: false) } }
            let assembled = AssembledBatch(sequences: sequences, outputs: outputs, positions: positions, firstScored: [])
            try device.synchronize()
            let start = Date()
            try engine.zeroGradients()
            _ = try engine.accumulate(assembled, settings: LossSettings(kind: .ce), gradAccum: 1, dropoutSeed: 0, temperature: nil)
            _ = try engine.clipGradients(maxNorm: 1)
            try engine.update(lr: 1e-5)
            try device.synchronize()
            if step >= warmup, step < warmup + steps { times.append(Date().timeIntervalSince(start)) }
        }
        if let profile = device.profile {
            print(profile.table(top: 30))
            device.profile = nil
        }
        let median = times.sorted()[times.count / 2]
        let tokensPerSecond = Double(batch * tokens) / median
        if json {
            print("{\"device\":\(jsonString(device.name)),\"precision\":\"\(precision.rawValue)\",\"batch\":\(batch),\"tokens\":\(tokens),\"step_s\":\(median),\"tokens_per_s\":\(tokensPerSecond)}")
        } else {
            print(String(format: "llmrec %@ on %@: %d × %d tokens, step %.1f ms (median of %d), %.0f tokens/s",
                         precision.rawValue, device.name, batch, tokens, median * 1000, steps, tokensPerSecond))
        }
    }
}
