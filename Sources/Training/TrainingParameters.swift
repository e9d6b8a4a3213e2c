// Every setting of a training run, written into its config.json so that it can be repeated
// and a resume checked.
import CausalLM
import Kernels
import RecData

public struct TrainingParameters: Sendable, Codable, Equatable {
    /// The loss and its settings.
    public var loss = LossKind.ce
    /// IGD's weight of zero-IG tokens.
    public var beta = 0.1
    /// MSL's fixed temperature (ignored with `ats`).
    public var tau = 1.0
    /// MSL's adaptive temperature.
    public var ats = false
    /// ATS reads each sample's first response position with at least this many valid tokens.
    /// nil: the smallest set where its C = ln(η·N₁) is positive enough for τ* to be defined (5 at
    /// η = 0.25; docs/DESIGN.md, "Losses"). 2 reads the first branching position, which with
    /// SmolLM2's tokenizer is the trie's root (`"`, `"'`, `"...`): C < 0 there, so τ never moves.
    public var atsMinValid: Int?

    /// The valid-set size at which ATS reads a sample (`atsMinValid` or its default).
    public var atsFirstPositionMinimum: Int { atsMinValid ?? AdaptiveTemperature.smallestDefinedValidSet() }
    public var learningRate = 1e-4
    public var warmup = 10
    public var schedule = LRSchedule.cosine
    public var epochs = 1
    /// Stop after this many optimiser steps (nil: the epochs decide).
    public var maxSteps: Int?
    /// Train until this many forward tokens have passed (instead of the epochs): the run stops at
    /// the first step that reaches it. nil: the epochs decide.
    public var trainTokens: Int?
    /// Windows (one target per row) or sequences (a user's items, every training target scored);
    /// nil reads as windows and is left out of config.json, so older runs read as what they were.
    public var samples: SampleFormat?
    /// The sequence format's row budget in tokens (nil: SequenceChunks.defaultMaxTokens).
    public var maxTokens: Int?

    /// The sample format (`samples` or windows).
    public var format: SampleFormat { samples ?? .windows }
    /// The row budget of sequence chunks.
    public var chunkTokens: Int { maxTokens ?? SequenceChunks.defaultMaxTokens }
    /// Samples per micro-batch, and micro-batches per optimiser step.
    public var batch = 8
    public var gradAccum = 1
    public var clipNorm = 1.0
    public var weightDecay = 0.0
    public var seed: UInt64 = 42
    /// Validation (and checkpoint) every this many steps; 0 = only at the end.
    public var evalEvery = 50
    /// Validation samples used (from the start of the valid split).
    public var validSamples = 200
    /// Skip a step whose loss or gradient is NaN/Inf instead of stopping.
    public var skipNonFinite = false
    /// LoRA adapters to train on a frozen base; nil trains every weight (full fine-tuning).
    public var lora: LoRASettings?
    /// The products' arithmetic: bf16 mixed precision (Float32 master weights, gradients and
    /// optimiser state; bf16 products), or nil for Float32 — left out of config.json then, so
    /// runs from before the setting existed read as what they were.
    public var precision: Precision?

    public init() {}

    /// Optimiser steps of a run on `trainSamples` samples: whole steps of batch × grad-accum
    /// micro-batches per epoch (at least one), times the epochs, capped by `maxSteps`.
    public func totalSteps(trainSamples: Int) -> Int {
        let batchesPerEpoch = (trainSamples + batch - 1) / batch
        return min(maxSteps ?? Int.max, max(1, batchesPerEpoch / gradAccum) * epochs)
    }
}
