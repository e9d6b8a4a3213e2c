// `llmrec cuda`: the CUDA backend's libraries and GPU (info), its kernels compiled for an
// architecture without a GPU (compile), its kernels checked against the CPU's on the GPU (check),
// a model's logits on both (logits) and one training step's gradients on both (gradients).
import ArgumentParser
import CUDABackend
import CausalLM
import CUDAChecks
import CUDAModel
import Foundation
import Kernels
import Training

struct CUDACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cuda",
        abstract: "Inspect and check the CUDA backend (GPU kernels compiled at run time by NVRTC).",
        discussion: """
            The CUDA driver, NVRTC and cuBLAS are opened at run time, never linked: llmrec builds and \
            runs without them. They are looked for in the folders of LLMREC_CUDA_PATH (separated by ':'), \
            then where the dynamic loader looks (LD_LIBRARY_PATH, ldconfig). Compiled kernels are cached \
            in $LLMREC_HOME/cuda-kernels.
            """,
        subcommands: [CUDAInfoCommand.self, CUDACompileCommand.self, CUDACheckCommand.self, CUDALogitsCommand.self, CUDAGradientsCommand.self, CUDABeamsCommand.self, CUDABenchTrainCommand.self]
    )
}

struct CUDAInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show which CUDA libraries were found and the GPU they see; exit 1 when CUDA cannot be used."
    )

    func run() throws {
        for library in CUDALibrary.allCases {
            do {
                let (_, path) = try library.open()
                print("\(library.rawValue): \(path)")
            } catch {
                print("\(library.rawValue): not found")
            }
        }
        do {
            let device = try CUDADevice()
            print("GPU \(device.ordinal): \(device.name), compute capability \(device.computeCapability.major).\(device.computeCapability.minor) (\(device.architecture)), \(device.multiprocessors) multiprocessors, \(device.memoryBytes >> 20) MiB")
            print("driver: CUDA \(device.driverVersion / 1000).\(device.driverVersion % 1000 / 10)")
        } catch {
            throw CommandFailure("CUDA cannot be used here: \(error)")
        }
    }
}

struct CUDACompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile the kernel program with NVRTC for an architecture; needs NVRTC only, no GPU.",
        discussion: "Writes the CUDA C source and the compiled cubin (or PTX) into the output folder, for inspection (cuobjdump, nvdisasm)."
    )

    @Option(help: "The GPU architecture, as NVRTC names it (sm_80 for A100, sm_90 for H100/H200).")
    var architecture = "sm_90"

    @Flag(help: "Write PTX instead of machine code (cubin).")
    var ptx = false

    @Option(help: "The folder to write llmrec_kernels.cu and the compiled program into.")
    var out: String

    func run() throws {
        let compiler = try NVRTCCompiler()
        let output: NVRTCCompiler.Output = ptx ? .ptx : .cubin
        let bytes = try compiler.compile(KernelProgram.source, name: KernelProgram.name, architecture: architecture, output: output)
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try KernelProgram.source.write(to: folder.appendingPathComponent(KernelProgram.name), atomically: true, encoding: .utf8)
        let file = folder.appendingPathComponent("llmrec_kernels-\(architecture).\(output.rawValue)")
        try Data(bytes).write(to: file, options: .atomic)
        print("NVRTC \(compiler.version.major).\(compiler.version.minor) (\(compiler.libraryPath)): \(KernelProgram.all.count) kernels, \(bytes.count) bytes → \(file.path)")
    }
}

struct CUDACheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run every CUDA kernel against its CPU counterpart on random inputs of awkward sizes; exit 1 on any failure.",
        discussion: "Each output is poisoned with NaN before the launch, so an element a kernel does not write fails the check."
    )

    @Option(help: "The GPU to use (its ordinal).")
    var gpu = 0

    @Option(help: "The seed of the random inputs.")
    var seed: UInt64 = 2026

    func run() throws {
        let device: CUDADevice
        do { device = try CUDADevice(ordinal: gpu) } catch { throw CommandFailure("CUDA cannot be used here: \(error)") }
        print("GPU \(device.ordinal): \(device.name) (\(device.architecture)), CUDA driver \(device.driverVersion)")
        var checks = KernelChecks(device: device, seed: seed)
        try checks.runAll()
        let width = checks.results.map(\.kernel.count).max() ?? 0
        print("kernel".padding(toLength: width, withPad: " ", startingAt: 0) + "  result  rel. error  tolerance  unwritten  shape")
        for r in checks.results {
            print(r.kernel.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + (r.passed ? "ok    " : "FAILED")
                  + String(format: "  %10.2e  %9.0e  %9d  ", r.relativeError, r.tolerance, r.unwritten) + r.shape)
        }
        let failed = checks.results.filter { !$0.passed }.count
        print("\(checks.results.count - failed) of \(checks.results.count) checks passed")
        if failed > 0 { throw ExitCode(1) }
    }
}

struct CUDALogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Run one sequence of token ids through the model on the CPU and on the GPU; compare and save both logits.",
        discussion: """
            Writes cpu.f32 and cuda.f32 (the logits, rows × vocabulary, little-endian Float32) into --out \
            (cpu.f32 first, also where CUDA cannot be used), for comparison with another framework's (scripts/device/logits_parity.py), and prints how far \
            the GPU's are from the CPU's. The CPU side runs the reference path in fp32 (as `llmrec logits`).
            """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "The token ids, separated by commas.")
    var tokens: String

    @OptionGroup var gpuPrecision: GPUPrecisionOptions
    var precision: Precision { gpuPrecision.precision }

    @Flag(help: "Logits at every position instead of the last only.")
    var allRows = false

    @Option(help: "The folder to write cpu.f32 and cuda.f32 into.")
    var out: String

    func run() throws {
        let ids = try tokens.split(separator: ",").map { part -> Int32 in
            guard let id = Int32(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--tokens: '\(part)' is not a token id") }
            return id
        }
        guard !ids.isEmpty else { throw ValidationError("--tokens: give at least one token id") }
        let model = try modelOptions.source().loadModel()
        let rows: DecoderModel.LogitRows = allRows ? .all : .last
        let packed = precision == .fp32 ? nil : InferenceWeights.packed(model, precision: precision)
        let cpu = try model.forward([ids], cache: KVCache(config: model.config, slots: 1, capacity: ids.count), logits: rows, packed: packed)
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try write(cpu, to: folder.appendingPathComponent("cpu.f32"))
        let device: CUDADevice
        do { device = try CUDADevice() } catch { throw CommandFailure("CUDA cannot be used here: \(error)") }
        let decoder = try CUDADecoder(model, device: device, precision: precision == .fp32 ? .fp32 : .bf16)
        let gpu = try decoder.forward([ids], cache: CUDAKVCache(decoder, slots: 1, capacity: ids.count), logits: rows)
        let maxAbs = zip(gpu, cpu).map { abs($0 - $1) }.max() ?? 0
        try write(gpu, to: folder.appendingPathComponent("cuda.f32"))
        print(String(format: "%@ on %@, %d tokens, %@: GPU against CPU ‖Δ‖/‖cpu‖ %.2e, max |Δ| %.2e",
                     model.config.architecture.rawValue, device.name, ids.count, precision.rawValue, relativeDifference(gpu, cpu), maxAbs))
    }

    private func write(_ values: [Float], to file: URL) throws {
        try values.withUnsafeBytes { try Data($0).write(to: file, options: .atomic) }
    }
}

struct CUDAGradientsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradients",
        abstract: "One training step's gradients on the GPU and the CPU, each against a reference's (PyTorch autograd, fp32).",
        discussion: """
            The reference is a gradient fixture: NAME_grads.json (the batch, the cross-entropy loss, each \
            tensor's offset and shape, by Hugging Face or PEFT name) with NAME_grads.bin beside it (the \
            gradients, flat Float32), as scripts/fixtures/make_model_fixtures.py and make_lora_fixtures.py \
            write them for Tests/CausalLMTests/Fixtures. With --adapter, the base is frozen and the \
            adapters' gradients are compared. Exit 1 when a GPU tensor's ‖Δ‖/‖reference‖ exceeds --tolerance.
            """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "The fixture's .json file (its .bin beside it).")
    var fixture: String

    @Option(help: "A PEFT adapter directory: train it on the frozen model (the fixture then holds adapter gradients).")
    var adapter: String?

    @OptionGroup var gpuPrecision: GPUPrecisionOptions
    var precision: Precision { gpuPrecision.precision }

    @Option(help: "The largest relative error allowed per tensor (default: 1e-3 in fp32, 3e-2 in bf16).")
    var tolerance: Double?

    struct Fixture: Decodable {
        struct Entry: Decodable { let offset: Int; let shape: [Int] }
        let loss: Double
        let sequences: [[Int32]]
        let outputs: [[Int]]
        let tensors: [String: Entry]
    }

    func run() throws {
        let json = URL(fileURLWithPath: fixture)
        let spec = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: json))
        let binary = json.deletingPathExtension().appendingPathExtension("bin")
        let reference = try Data(contentsOf: binary).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let model = try modelOptions.source().loadModel()
        let lora = try adapter.map { try LoRAAdapter(peftDirectory: URL(fileURLWithPath: $0), config: model.config) }
        let positions = zip(spec.sequences, spec.outputs).flatMap { seq, outs in
            outs.map { ScoredPosition(target: seq[$0 + 1], valid: [], informationGain: 1, isEOS: false) }
        }
        let settings = LossSettings(kind: .ce)
        // What is compared: every model tensor, or every adapter tensor.
        var slots: [(String, TensorSlot)]
        if let lora {
            slots = lora.peftNames()
        } else {
            slots = model.layout.globals.map { (WeightNames.huggingFace($0.key), $0.value) }
            for (i, layer) in model.layout.layers.enumerated() { slots += layer.map { (WeightNames.huggingFace($0.key, layer: i), $0.value) } }
        }
        let count = lora?.parameters.count ?? model.layout.count

        // The CPU, in fp32: the reference path every CPU test holds to PyTorch.
        let (cpuLogits, tape) = try model.trainForward(spec.sequences, outputs: spec.outputs, adapter: lora)
        var dlogits = [Float](repeating: 0, count: cpuLogits.count)
        let cpuLoss = cpuLogits.withUnsafeBufferPointer { l in
            dlogits.withUnsafeMutableBufferPointer { tokenLoss(settings, logits: l.baseAddress!, V: model.config.vocabSize, positions: positions, grad: $0.baseAddress!) }
        }
        let cpuGrads = ParameterBuffer(count: count, zeroed: true)
        dlogits.withUnsafeBufferPointer {
            model.backward(tape, dlogits: $0.baseAddress!, grads: lora == nil ? cpuGrads : nil, adapterGrads: lora == nil ? nil : cpuGrads)
        }

        let device: CUDADevice
        do { device = try CUDADevice() } catch { throw CommandFailure("CUDA cannot be used here: \(error)") }
        let decoder = try CUDADecoder(model, device: device, precision: precision == .fp32 ? .fp32 : .bf16)
        let pass = try CUDATrainingPass(decoder, adapter: lora)
        let gpuTape = try pass.forward(spec.sequences, outputs: spec.outputs)
        let (gpuLoss, gpuDlogits) = try pass.loss(settings, positions: positions, tape: gpuTape)
        let grads = try device.allocate(Float.self, count: count)
        try grads.fill(bits: 0)
        try pass.backward(gpuTape, dlogits: gpuDlogits, grads: lora == nil ? grads : nil, adapterGrads: lora == nil ? nil : grads)
        let gpuGrads = try grads.download()

        let limit = tolerance ?? (precision == .fp32 ? 1e-3 : 3e-2)
        print(String(format: "loss: reference %.6f, cpu %.6f, gpu %.6f", spec.loss, cpuLoss, gpuLoss))
        var worst = 0.0, failures = 0
        for (name, slot) in slots.sorted(by: { $0.0 < $1.0 }) {
            guard let entry = spec.tensors[name] else { throw CommandFailure("\(fixture): no reference gradient for \(name)") }
            let want = reference[entry.offset..<(entry.offset + slot.count)]
            let gpu = relativeDifference(gpuGrads[slot.offset..<(slot.offset + slot.count)], want)
            let cpu = relativeDifference(UnsafeBufferPointer(start: cpuGrads.view(slot), count: slot.count), want)
            worst = max(worst, gpu)
            if gpu > limit { failures += 1 }
            print(String(format: "%-64@ gpu %.2e  cpu %.2e%@", name as NSString, gpu, cpu, gpu > limit ? "  FAILED" : ""))
        }
        print(String(format: "gradients %@ %@: %d tensors, worst gpu %.2e (tolerance %.0e), %d failed", json.lastPathComponent, precision.rawValue,
                     slots.count, worst, limit, failures))
        if failures > 0 || abs(gpuLoss - spec.loss) > 1e-3 * abs(spec.loss) * (precision == .fp32 ? 1 : 30) { throw ExitCode(1) }
    }
}

/// `--precision` of the commands that compare the GPU with the CPU.
struct GPUPrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The products: fp32 (no TF32 on the GPU) or bf16 (bf16 operands, fp32 sums).", valueName: "fp32|bf16"))
    var precision: Precision = .fp32
}
