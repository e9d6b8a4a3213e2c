// Training on a GPU (Training's TrainingEngine): the weights, their gradients and AdamW's moments
// live on the device; a step is CUDATrainingPass's forward, the loss rows, the backward, the
// gradient norm (partial sums per block, added on the host in order), clipping and the AdamW
// kernel, with torch.optim.AdamW's bias corrections worked out on the host as Training/AdamW does.
// In bf16 the rounded copy of the weights is refreshed after every update (master weights fp32).
// Full fine-tuning, or LoRA adapters on the frozen base (their products in fp32, as on the CPU).
import CausalLM
import CUDABackend
import Foundation
import Kernels
import Training

public enum CUDATrainingError: Error, CustomStringConvertible {
    case recomputeNotSupported
    public var description: String {
        switch self {
        case .recomputeNotSupported: "gradient checkpointing is not built for the GPU yet; drop --gradient-checkpointing with --device cuda"
        }
    }
}

public final class CUDATrainingEngine: TrainingEngine {
    let model: DecoderModel
    let adapter: LoRAAdapter?
    let pass: CUDATrainingPass
    /// What is trained (the model's parameters, or the adapters'), its gradients and moments.
    let trained, grads, m, v: DeviceBuffer<Float>
    let settings: AdamWSettings
    private(set) var step = 0
    /// Host copies: the trained weights' is the model's (or the adapter's) buffer; the moments' are here.
    let hostWeights: UnsafeMutablePointer<Float>
    let hostM: UnsafeMutablePointer<Float>
    let hostV: UnsafeMutablePointer<Float>

    public init(model: DecoderModel, adapter: LoRAAdapter?, recompute: Bool, precision: Precision, adamW: AdamWSettings, device: CUDADevice) throws {
        guard !recompute else { throw CUDATrainingError.recomputeNotSupported }
        self.model = model
        self.adapter = adapter
        settings = adamW
        pass = try CUDATrainingPass(try CUDADecoder(model, device: device, precision: precision == .bf16 ? .bf16 : .fp32), adapter: adapter)
        trained = pass.adapterParameters ?? pass.decoder.parameters
        hostWeights = adapter?.parameters.data ?? model.parameters.data
        let n = trained.count
        grads = try device.allocate(Float.self, count: n)
        m = try device.allocate(Float.self, count: n)
        v = try device.allocate(Float.self, count: n)
        for b in [grads, m, v] { try b.fill(bits: 0) }
        hostM = .allocate(capacity: max(n, 1))
        hostV = .allocate(capacity: max(n, 1))
        hostM.initialize(repeating: 0, count: n)
        hostV.initialize(repeating: 0, count: n)
    }

    deinit {
        hostM.deallocate()
        hostV.deallocate()
    }

    var device: CUDADevice { pass.device }
    public var count: Int { trained.count }

    public func zeroGradients() throws { try grads.fill(bits: 0) }

    public func accumulate(_ batch: AssembledBatch, settings lossSettings: LossSettings, gradAccum: Int, dropoutSeed: UInt64,
                           temperature: ((FirstPositionLogits) -> Double)?) throws -> Double {
        let tape = try pass.forward(batch.sequences, outputs: batch.outputs, dropoutSeed: dropoutSeed)
        var lossSettings = lossSettings
        if let temperature { lossSettings.tau = try self.temperature(temperature, batch, tape: tape) }
        let (loss, dlogits) = try tokenLossOnDevice(lossSettings, logits: tape.logits, V: model.config.vocabSize, positions: batch.positions, device: device)
        if gradAccum > 1 { try scale(dlogits, count: tape.rows * model.config.vocabSize, by: 1 / Float(gradAccum)) }
        try pass.backward(tape, dlogits: dlogits, grads: adapter == nil ? grads : nil, adapterGrads: adapter == nil ? nil : grads)
        return loss
    }

    /// ATS's τ from the logits of the batch's first scored positions, gathered on the device and
    /// brought to the host (a few rows of the batch's).
    func temperature(_ temperature: (FirstPositionLogits) -> Double, _ batch: AssembledBatch, tape: CUDATrainingTape) throws -> Double {
        let rows = batch.firstScored.compactMap { $0 }
        guard !rows.isEmpty else { return temperature([]) }
        let V = model.config.vocabSize
        let gathered = try device.allocate(Float.self, count: rows.count * V), index = try device.upload(rows.map { Int32($0) })
        try device.launch("embed_rows", grid: (rows.count, 1), block: 256,
                          [gathered.argument, tape.logits.argument, index.argument, .int32(Int32(rows.count)), .int32(Int32(V))])
        return try gathered.download().withUnsafeBufferPointer { host in
            temperature(rows.enumerated().map { (i, r) in (host.baseAddress! + i * V, batch.positions[r].valid, batch.positions[r].target) })
        }
    }

    public func clipGradients(maxNorm: Double) throws -> Double {
        let blocks = device.strideGrid(count)
        let partials = try device.allocate(Float.self, count: blocks)
        try device.launch("sum_squares", grid: (blocks, 1), block: 256, [partials.argument, grads.argument, .int64(Int64(count))])
        let norm = try partials.download().reduce(0.0) { $0 + Double($1) }.squareRoot()
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 { try scale(grads, count: count, by: Float(coefficient)) }
        return norm
    }

    public func update(lr: Double) throws {
        step += 1
        try adamWUpdate(device, parameters: trained, grads: grads, m: m, v: v, count: count, settings: settings, step: step, lr: lr)
        // The base's bf16 copy changes only when the base is trained.
        if adapter == nil { try pass.decoder.refreshBFloat16Copy() }
    }

    public func loss(_ batch: AssembledBatch, settings lossSettings: LossSettings) throws -> Double {
        let tape = try pass.forward(batch.sequences, outputs: batch.outputs)
        return try tokenLossOnDevice(lossSettings, logits: tape.logits, V: model.config.vocabSize, positions: batch.positions, device: device).loss
    }

    public func hostBuffers() throws -> (weights: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>) {
        let n = count
        for (buffer, host) in [(trained, hostWeights), (m, hostM), (v, hostV)] {
            let values = try buffer.download()
            values.withUnsafeBufferPointer { host.update(from: $0.baseAddress!, count: n) }
        }
        return (hostWeights, hostM, hostV)
    }

    public func restore(step: Int) throws {
        let n = count
        try trained.copy(from: Array(UnsafeBufferPointer(start: hostWeights, count: n)))
        try m.copy(from: Array(UnsafeBufferPointer(start: hostM, count: n)))
        try v.copy(from: Array(UnsafeBufferPointer(start: hostV, count: n)))
        self.step = step
        if adapter == nil { try pass.decoder.refreshBFloat16Copy() }
    }

    func scale(_ buffer: DeviceBuffer<Float>, count: Int, by factor: Float) throws {
        try device.launch("scale_values", grid: (device.strideGrid(count), 1), block: 256, [buffer.argument, .int64(Int64(count)), .float(factor)])
    }
}

/// One AdamW update on the device (the adamw_update kernel), with Training/AdamW's constants.
public func adamWUpdate(_ device: CUDADevice, parameters: DeviceBuffer<Float>, grads: DeviceBuffer<Float>, m: DeviceBuffer<Float>,
                        v: DeviceBuffer<Float>, count: Int, settings: AdamWSettings, step: Int, lr: Double) throws {
    let (stepSize, bc2Root, decay) = settings.constants(step: step, lr: lr)
    try device.launch("adamw_update", grid: (device.strideGrid(count), 1), block: 256,
                      [parameters.argument, grads.argument, m.argument, v.argument, .int64(Int64(count)), .float(Float(settings.beta1)),
                       .float(Float(settings.beta2)), .float(Float(settings.eps)), .float(stepSize), .float(bc2Root), .float(decay)])
}
