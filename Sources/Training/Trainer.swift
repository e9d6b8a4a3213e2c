// The training loop: micro-batches of (prompt, response) sequences, the chosen loss at the
// response positions only, backward, clipping, AdamW, the schedule; validation and checkpoints
// every `evalEvery` steps; an exact resume from checkpoint-latest (same batches, moments, τ).
// The arithmetic of a step runs in a TrainingEngine (the CPU's by default, or a GPU's).
import CausalLM
import Foundation
import Kernels

public enum TrainingEvent: Sendable {
    case step(step: Int, total: Int, loss: Double, lr: Double, tau: Double?, tokensPerSecond: Double, gradNorm: Double)
    case skipped(step: Int, reason: String)
    case validation(step: Int, loss: Double, best: Bool)
    case checkpoint(step: Int)
}

public final class Trainer {
    public let model: DecoderModel
    public let corpus: TrainingCorpus
    public let parameters: TrainingParameters
    public let run: RunDirectory
    /// The LoRA adapters being trained (nil: full fine-tuning).
    public let adapter: LoRAAdapter?
    /// Gradient checkpointing: recompute each layer's activations in the backward pass instead of
    /// keeping them (less memory, one more forward pass). It does not change the results.
    public let recomputeActivations: Bool
    /// Where the steps run.
    public let engine: TrainingEngine

    /// `engine` makes the engine from the trainer's adapter (nil: LoRA off); default: the CPU's.
    public init(model: DecoderModel, corpus: TrainingCorpus, parameters: TrainingParameters, run: RunDirectory,
                recomputeActivations: Bool = false, engine makeEngine: ((LoRAAdapter?) throws -> TrainingEngine)? = nil) throws {
        self.model = model
        self.corpus = corpus
        self.parameters = parameters
        self.run = run
        self.recomputeActivations = recomputeActivations
        let data = corpus.dataset.directory.path
        guard !corpus.train.isEmpty else { throw RunError.badData(data, "the train split is empty") }
        guard !corpus.valid.isEmpty else {
            throw RunError.badData(data, "the valid split is empty; validation chooses the best checkpoint (never the test split), so training needs it")
        }
        precondition(corpus.format == parameters.format, "the corpus is in the \(corpus.format) format, the parameters ask for \(parameters.format)")
        let perStep = parameters.batch * parameters.gradAccum
        let unit = corpus.format == .windows ? "samples" : "sequence chunks"
        guard perStep <= corpus.train.count else {
            throw RunError.badData(data, "a step takes \(perStep) \(unit) (batch \(parameters.batch) × grad-accum \(parameters.gradAccum)) "
                + "but the train split holds \(corpus.train.count); lower --batch or --grad-accum")
        }
        totalSteps = parameters.trainTokens.map { Self.steps(toReach: $0, corpus: corpus, parameters: parameters) }
            ?? parameters.totalSteps(trainSamples: corpus.train.count)
        let adapter = try parameters.lora.map { try LoRAAdapter(settings: $0, config: model.config, seed: parameters.seed) }
        self.adapter = adapter
        engine = try makeEngine?(adapter) ?? CPUTrainingEngine(model: model, adapter: adapter, recompute: recomputeActivations,
                                                                precision: parameters.precision ?? .fp32,
                                                                adamW: AdamWSettings(weightDecay: parameters.weightDecay))
    }

    /// The trainable weights' file in a checkpoint.
    public var weightsFile: String { adapter == nil ? Self.modelFile : Self.adapterFile }
    public static let modelFile = "model.bin", adapterFile = "adapter.bin"

    /// Micro-batches per epoch, and optimiser steps in the whole run.
    public var batchesPerEpoch: Int { Self.batchesPerEpoch(corpus, parameters) }
    static func batchesPerEpoch(_ corpus: TrainingCorpus, _ p: TrainingParameters) -> Int { (corpus.train.count + p.batch - 1) / p.batch }
    public let totalSteps: Int

    /// The micro-batch of global index `index` (step × grad-accum + micro), its epoch's batches
    /// made once and kept in `cache`.
    static func microBatch(_ index: Int, corpus: TrainingCorpus, parameters p: TrainingParameters,
                           cache: inout (epoch: Int, batches: [[Int]])) -> [TrainingExample] {
        let perEpoch = batchesPerEpoch(corpus, p)
        let epoch = index / perEpoch
        if epoch != cache.epoch { cache = (epoch, corpus.batches(epoch: epoch, batchSize: p.batch, seed: p.seed)) }
        return cache.batches[index % perEpoch].map { corpus.train[$0] }
    }

    /// Walks the run's steps in order (the same batches), adding each step's forward tokens, while
    /// `goOn(step, tokens so far)` holds; returns the steps walked and their tokens.
    static func walkSteps(corpus: TrainingCorpus, parameters p: TrainingParameters, while goOn: (Int, Int) -> Bool) -> (steps: Int, tokens: Int) {
        var cache: (epoch: Int, batches: [[Int]]) = (-1, [])
        var tokens = 0, step = 0
        while goOn(step, tokens) {
            for micro in 0..<p.gradAccum {
                tokens += microBatch(step * p.gradAccum + micro, corpus: corpus, parameters: p, cache: &cache).reduce(0) { $0 + corpus.tokens($1) }
            }
            step += 1
        }
        return (step, tokens)
    }

    /// The steps a token budget takes: the first step at which the forward tokens of the batches
    /// the run will see reach `budget`, capped by `maxSteps`.
    public static func steps(toReach budget: Int, corpus: TrainingCorpus, parameters p: TrainingParameters) -> Int {
        max(1, walkSteps(corpus: corpus, parameters: p) { step, tokens in tokens < budget && step < (p.maxSteps ?? Int.max) }.steps)
    }

    /// A run's optimiser steps and their forward training tokens (validation not counted), in one
    /// walk of its batches.
    public static func plannedWork(corpus: TrainingCorpus, parameters p: TrainingParameters) -> (steps: Int, tokens: Int) {
        if let budget = p.trainTokens {
            return walkSteps(corpus: corpus, parameters: p) { step, tokens in tokens < budget && step < (p.maxSteps ?? Int.max) }
        }
        let steps = p.totalSteps(trainSamples: corpus.train.count)
        return walkSteps(corpus: corpus, parameters: p) { step, _ in step < steps }
    }

    var lossSettings: LossSettings {
        LossSettings(kind: parameters.loss, beta: parameters.beta, tau: parameters.tau, scaleByTau: parameters.ats)
    }

    /// Asked after every step: true saves checkpoint-latest at that step and throws
    /// `TrainingStopped`, so that a resume loses nothing (an interrupted user, a sitting's end).
    public var stopRequested: () -> Bool = { false }

    /// Trains from the start, or from checkpoint-latest with `resume`; reports each event.
    public func train(resume: Bool, report: (TrainingEvent) throws -> Void) throws {
        let p = parameters
        let count = engine.count
        var state = LoopState()
        if resume {
            state = try run.loadState(from: run.latest, maxStep: totalSteps)
            let host = try engine.hostBuffers()
            try run.load(weightsFile, from: run.latest, into: host.weights, count: count)
            try run.load("adam_m.bin", from: run.latest, into: host.m, count: count)
            try run.load("adam_v.bin", from: run.latest, into: host.v, count: count)
            try engine.restore(step: state.step)
            try run.truncateLog(after: state.step)
        }
        var ats = AdaptiveTemperature(start: state.tau)
        var epochBatches: (epoch: Int, batches: [[Int]]) = (-1, [])
        let total = totalSteps
        var tokensSeen = state.tokens ?? 0
        var step = state.step
        while step < total {
            let start = Date()
            let lr = p.schedule.rate(step: step, peak: p.learningRate, warmup: p.warmup, total: total)
            try engine.zeroGradients()
            var lossSum = 0.0, tokens = 0
            var atsSteps: [AdaptiveTemperature.Step] = []
            for micro in 0..<p.gradAccum {
                let index = step * p.gradAccum + micro
                let batch = corpus.assembled(Self.microBatch(index, corpus: corpus, parameters: p, cache: &epochBatches),
                                             atsMinValid: p.atsFirstPositionMinimum)
                tokens += batch.sequences.reduce(0) { $0 + $1.count }
                // Dropout masks from (seed, micro-batch), so a resumed run draws the same ones.
                let dropoutSeed = p.seed ^ (UInt64(index) &+ 1) &* 0xD6E8_FEB8_6659_FD93
                let settings = lossSettings
                let temperature: ((FirstPositionLogits) -> Double)? = p.ats && settings.kind.masked ? { firstRows in
                    atsSteps.append(ats.update(firstPositions: firstRows))
                    return ats.tau
                } : nil
                let loss = try engine.accumulate(batch, settings: settings, gradAccum: p.gradAccum, dropoutSeed: dropoutSeed, temperature: temperature)
                lossSum += loss / Double(p.gradAccum)
            }
            let norm = try engine.clipGradients(maxNorm: p.clipNorm)
            guard lossSum.isFinite, norm.isFinite else {
                let what = lossSum.isFinite ? "gradient norm" : "loss"
                if p.skipNonFinite {
                    try report(.skipped(step: step + 1, reason: "\(what) is not finite"))
                    run.log(["step": step + 1, "skipped": "\(what) not finite"])
                    step += 1
                    tokensSeen += tokens
                    continue
                }
                throw RunError.nonFinite(step: step + 1, what: what)
            }
            try engine.update(lr: lr)
            step += 1
            tokensSeen += tokens
            let seconds = Date().timeIntervalSince(start)
            let tau: Double? = p.ats ? ats.tau : nil
            try report(.step(step: step, total: total, loss: lossSum, lr: lr, tau: tau, tokensPerSecond: Double(tokens) / seconds, gradNorm: norm))
            var line: [String: Any] = ["step": step, "loss": lossSum, "lr": lr, "tokens_per_s": Double(tokens) / seconds, "grad_norm": norm,
                                       "tokens": tokens, "tokens_total": tokensSeen]
            if let tau { line["tau"] = tau }
            for (key, value) in Self.atsStatistics(atsSteps) { line[key] = value }
            run.log(line)

            // checkpoint-latest at `step`: resuming from it repeats nothing (same batches, moments, τ).
            func saveLatest(_ host: (weights: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>)) throws {
                state.step = step
                state.tokens = tokensSeen
                state.tau = ats.tau
                try run.save(to: run.latest, buffers: [(weightsFile, host.weights, count), ("adam_m.bin", host.m, count),
                                                       ("adam_v.bin", host.v, count)], state: state)
                try report(.checkpoint(step: step))
            }
            let validates = (p.evalEvery > 0 && step % p.evalEvery == 0) || step == total
            if validates {
                let valid = try validationLoss(tau: ats.tau)
                let isBest = state.bestValidLoss.map { valid < $0 } ?? true
                let host = try engine.hostBuffers()
                if isBest {
                    state.bestValidLoss = valid
                    state.bestStep = step
                    // The best checkpoint's own state is at this step (export reports it).
                    var best = state
                    best.step = step
                    best.tau = ats.tau
                    try run.save(to: run.best, buffers: [(weightsFile, host.weights, count)], state: best)
                }
                try report(.validation(step: step, loss: valid, best: isBest))
                run.log(["step": step, "valid_loss": valid, "best": isBest])
                try saveLatest(host)
            }
            if step < total && stopRequested() {
                if !validates { try saveLatest(try engine.hostBuffers()) }
                throw TrainingStopped(step: step, total: total)
            }
        }
    }

    /// What ATS saw in a step, for the log (means over its micro-batches that updated τ): τ*
    /// before the clamp, Δμ, σ² and C, so that a τ held at a bound shows why.
    static func atsStatistics(_ steps: [AdaptiveTemperature.Step]) -> [String: Double] {
        let updated = steps.filter { !$0.skipped }
        guard !updated.isEmpty else { return [:] }
        func mean(_ value: (AdaptiveTemperature.Step) -> Double) -> Double { updated.reduce(0) { $0 + value($1) } / Double(updated.count) }
        return ["tau_star": mean { $0.unclamped ?? 0 }, "ats_delta_mu": mean(\.deltaMu), "ats_variance": mean(\.variance), "ats_c": mean(\.c)]
    }

    /// The training loss on the first validation samples (no gradients), at temperature `tau`.
    public func validationLoss(tau: Double) throws -> Double { try loss(on: corpus.valid, tau: tau) }

    /// The training loss, averaged over `examples` (no gradients, no dropout), at temperature `tau`.
    public func loss(on examples: [TrainingExample], tau: Double) throws -> Double {
        var settings = lossSettings
        if parameters.ats { settings.tau = tau }
        var sum = 0.0, n = 0
        for start in stride(from: 0, to: examples.count, by: parameters.batch) {
            let batch = Array(examples[start..<min(examples.count, start + parameters.batch)])
            sum += try engine.loss(corpus.assembled(batch), settings: settings) * Double(batch.count)
            n += batch.count
        }
        return n > 0 ? sum / Double(n) : .nan
    }
}

/// Thrown when `stopRequested` stopped a training; checkpoint-latest holds its last step.
public struct TrainingStopped: Error, CustomStringConvertible {
    public var step: Int
    public var total: Int
    public var description: String { "training stopped after step \(step) of \(total), as asked; checkpoint-latest holds it, and a resume continues from there" }
}
