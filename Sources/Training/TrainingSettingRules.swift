// The rules a run's settings meet, in one place: `llmrec train` checks its options with them and a
// study plan its "training" object and every arm, so the two can never accept different runs. A
// broken rule names the setting as its caller spells it (an option, `--ats-min-valid`, or a plan
// key, `'ats_min_valid'`).
import CausalLM
import RecData

/// A setting the rules speak of.
public enum TrainingSetting: String, Sendable, CaseIterable {
    // In the order a plan's error messages list them.
    case loss, beta, tau, ats, atsMinValid = "ats_min_valid", lr, warmup, schedule, epochs, maxSteps = "max_steps", batch
    case gradAccum = "grad_accum", clip, weightDecay = "weight_decay", seed, evalEvery = "eval_every", loraRank = "lora_rank"
    case loraAlpha = "lora_alpha", loraDropout = "lora_dropout", loraTargets = "lora_targets", precision, samples
    case maxTokens = "max_tokens", trainTokens = "train_tokens"
    /// Not a plan key: a study validates on its drawn windows.
    case validSamples = "valid_samples"

    /// The keys a plan's "training" object and each arm take.
    public static let planKeys = allCases.filter { $0 != .validSamples }.map(\.planKey)

    /// The key in a study plan.
    public var planKey: String { rawValue }
    /// The option of `llmrec train`.
    public var option: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
}

/// The first rule a set of settings breaks.
public struct TrainingSettingError: Error, CustomStringConvertible {
    public let setting: TrainingSetting
    public let message: String
    public var description: String { message }
}

extension TrainingParameters {
    /// Checks every rule; the error's message names settings with `name` (e.g. `\.option`).
    public func check(naming name: (TrainingSetting) -> String) throws(TrainingSettingError) {
        func fail(_ s: TrainingSetting, _ message: String) -> TrainingSettingError { TrainingSettingError(setting: s, message: "\(name(s)) \(message)") }
        for (s, v) in [(TrainingSetting.warmup, warmup), (.evalEvery, evalEvery), (.validSamples, validSamples)] where v < 0 {
            throw fail(s, "must be at least 0, got \(v)")
        }
        for (s, v) in [(TrainingSetting.epochs, epochs), (.batch, batch), (.gradAccum, gradAccum), (.maxSteps, maxSteps ?? 1), (.trainTokens, trainTokens ?? 1)] where v < 1 {
            throw fail(s, "must be at least 1, got \(v)")
        }
        for (s, v) in [(TrainingSetting.lr, learningRate), (.tau, tau), (.clip, clipNorm)] where !(v > 0 && v.isFinite) {
            throw fail(s, "must be positive, got \(v)")
        }
        if !(weightDecay >= 0 && weightDecay.isFinite) { throw fail(.weightDecay, "must be 0 or more, got \(weightDecay)") }
        if !(0...1).contains(beta) { throw fail(.beta, "must be in [0, 1], got \(beta)") }
        if ats, !loss.masked { throw fail(.ats, "applies to the msl losses only (loss is \(loss.rawValue))") }
        if let n = atsMinValid {
            if !ats { throw fail(.atsMinValid, "applies with \(name(.ats)) only") }
            if n < 2 { throw fail(.atsMinValid, "must be at least 2, got \(n)") }
        }
        if let n = maxTokens {
            if format != .sequences { throw fail(.maxTokens, "applies with \(name(.samples)) sequences only") }
            if n < SequenceChunks.smallestMaxTokens { throw fail(.maxTokens, "must be at least \(SequenceChunks.smallestMaxTokens), got \(n)") }
        }
        if let l = lora {
            if l.rank < 1 { throw fail(.loraRank, "must be at least 1, got \(l.rank)") }
            if !(l.alpha > 0 && l.alpha.isFinite) { throw fail(.loraAlpha, "must be positive, got \(l.alpha)") }
            if !(0..<1).contains(l.dropout) { throw fail(.loraDropout, "must be in [0, 1), got \(l.dropout)") }
        }
    }
}
