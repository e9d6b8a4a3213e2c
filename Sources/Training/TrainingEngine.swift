// Where a training step's arithmetic runs. The Trainer owns the loop (batches, schedule, ATS,
// validation, checkpoints, resume); an engine owns the weights being trained, their gradients and
// AdamW's moments, and runs forward, loss, backward, clipping and the update: CPUTrainingEngine
// below, or a GPU's (Sources/CUDAModel). Checkpoints always go through host buffers.
import CausalLM
import Foundation
import Kernels

/// One micro-batch, as TrainingCorpus.assemble makes it.
public struct AssembledBatch {
    public var sequences: [[Int32]]
    public var outputs: [[Int]]
    public var positions: [ScoredPosition]
    /// Each sample's first scored position with enough valid tokens for ATS (which reads its logits).
    public var firstScored: [Int?]

    public init(sequences: [[Int32]], outputs: [[Int]], positions: [ScoredPosition], firstScored: [Int?]) {
        self.sequences = sequences
        self.outputs = outputs
        self.positions = positions
        self.firstScored = firstScored
    }
}

/// The logits of each sample's first scored position, with its valid tokens and target (ATS's input).
public typealias FirstPositionLogits = [(row: UnsafePointer<Float>, valid: [Int32], target: Int32)]

public protocol TrainingEngine: AnyObject {
    /// How many weights are trained.
    var count: Int { get }
    func zeroGradients() throws
    /// Forward, loss and backward of one micro-batch, the gradient divided by `gradAccum` and added
    /// to the gradients; returns the loss. `temperature` (ATS), when given, sees the batch's
    /// first-position logits and returns the τ the loss uses; without it the settings' τ holds.
    func accumulate(_ batch: AssembledBatch, settings: LossSettings, gradAccum: Int, dropoutSeed: UInt64,
                    temperature: ((FirstPositionLogits) -> Double)?) throws -> Double
    /// Clips the gradients to a global L2 norm of `maxNorm`; returns the norm before clipping.
    func clipGradients(maxNorm: Double) throws -> Double
    /// One AdamW update at learning rate `lr`.
    func update(lr: Double) throws
    /// The loss of a batch, without gradients or dropout.
    func loss(_ batch: AssembledBatch, settings: LossSettings) throws -> Double
    /// Host buffers of the weights and the two moments, made current (for a checkpoint to save, or
    /// a resume to overwrite before `restore`).
    func hostBuffers() throws -> (weights: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>)
    /// Takes the host buffers back after a resume wrote them, and the optimiser's step count.
    func restore(step: Int) throws
}

/// Training on the CPU: Sources/CausalLM's passes, Training/TokenLoss, AdamW over flat buffers.
public final class CPUTrainingEngine: TrainingEngine {
    let model: DecoderModel
    let adapter: LoRAAdapter?
    let recompute: Bool
    let precision: Precision
    let weights: ParameterBuffer
    let grads: ParameterBuffer
    let optimizer: AdamW
    /// d loss / d logits, kept between micro-batches: a sequence batch's is hundreds of MB, and
    /// fresh pages each time cost their clearing.
    private var dlogits: [Float] = []

    public init(model: DecoderModel, adapter: LoRAAdapter?, recompute: Bool, precision: Precision, adamW: AdamWSettings) {
        self.model = model
        self.adapter = adapter
        self.recompute = recompute
        self.precision = precision
        weights = adapter?.parameters ?? model.parameters
        grads = ParameterBuffer(count: weights.count, zeroed: true)
        optimizer = AdamW(count: weights.count, settings: adamW)
    }

    public var count: Int { weights.count }

    public func zeroGradients() { zeroFill(grads.data, count: count) }

    public func accumulate(_ batch: AssembledBatch, settings: LossSettings, gradAccum: Int, dropoutSeed: UInt64,
                           temperature: ((FirstPositionLogits) -> Double)?) throws -> Double {
        let V = model.config.vocabSize
        let (logits, tape) = try model.trainForward(batch.sequences, outputs: batch.outputs, adapter: adapter, dropoutSeed: dropoutSeed,
                                                    recompute: recompute, precision: precision)
        var settings = settings
        if let temperature {
            settings.tau = logits.withUnsafeBufferPointer { l in
                temperature(batch.firstScored.compactMap { $0 }.map { (l.baseAddress! + $0 * V, batch.positions[$0].valid, batch.positions[$0].target) })
            }
        }
        if dlogits.count < logits.count { dlogits = [Float](repeating: 0, count: logits.count) }
        // tokenLoss writes every element of its rows (zeros where a row does not count).
        let loss = logits.withUnsafeBufferPointer { l in
            dlogits.withUnsafeMutableBufferPointer { tokenLoss(settings, logits: l.baseAddress!, V: V, positions: batch.positions, grad: $0.baseAddress!) }
        }
        dlogits.withUnsafeMutableBufferPointer { d in
            if gradAccum > 1 { for i in 0..<logits.count { d[i] /= Float(gradAccum) } }
            model.backward(tape, dlogits: d.baseAddress!, grads: adapter == nil ? grads : nil, adapterGrads: adapter == nil ? nil : grads)
        }
        model.recycle(tape)
        model.recycleLogits(logits)
        return loss
    }

    public func clipGradients(maxNorm: Double) -> Double { clipGradientNorm(grads.data, count: count, maxNorm: maxNorm) }

    public func update(lr: Double) { optimizer.update(params: weights.data, grads: grads.data, lr: lr) }

    public func loss(_ batch: AssembledBatch, settings: LossSettings) throws -> Double {
        let (logits, tape) = try model.trainForward(batch.sequences, outputs: batch.outputs, adapter: adapter, recompute: recompute, precision: precision)
        model.recycle(tape)
        var scratch = [Float](repeating: 0, count: logits.count)
        return logits.withUnsafeBufferPointer { tokenLoss(settings, logits: $0.baseAddress!, V: model.config.vocabSize, positions: batch.positions, grad: &scratch) }
    }

    public func hostBuffers() -> (weights: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>) {
        (weights.data, optimizer.m, optimizer.v)
    }

    public func restore(step: Int) { optimizer.restore(step: step) }
}
