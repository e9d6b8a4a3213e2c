// The small files a study commits (see StudyFiles for where each lives). Plain Codable records,
// written with sorted keys so that the same results give the same bytes.
import Decoding
import Foundation
import Training

/// What every result of a study depends on; another plan with other values is another study.
public struct StudyIdentity: Sendable, Codable, Equatable {
    public var model: String
    public var dataset: DatasetSpec
    public var sampleSeed: UInt64
    public var testWindows: Int
    public var validWindows: Int
}

/// An arm's effective settings, written before it trains: a later plan that changes any of
/// them is refused rather than mixed with these results.
public struct ArmRecord: Sendable, Codable, Equatable {
    public var name: String
    public var training: TrainingParameters
    public var trainWindows: Int
    public var validWindows: Int
    /// The model file's fingerprint (a zero-shot floor has no training, but the same model).
    public var modelFingerprint: String
    /// nil for trained arms; "zero-shot" for the untrained model.
    public var kind: String?
}

public struct TrainingRecord: Sendable, Codable, Equatable {
    public var steps: Int
    public var trainWindows: Int
    /// Wall-clock seconds of training and validation, summed over sittings.
    public var seconds: Double
    public var meanTokensPerSecond: Double
    public var finalTrainLoss: Double
    public var finalValidLoss: Double?
    /// The step with the lowest validation loss (the study reports the final step).
    public var bestStep: Int?
    public var bestValidLoss: Double?
    /// Sittings the training was spread over (1: it ran through).
    public var sittings: Int
    /// The GPU it trained on (its last sitting's); nil: the CPU.
    public var device: String? = nil
}

/// One decoder's evaluation of one arm (or a floor).
public struct DecoderRecord: Sendable, Codable, Equatable {
    public var arm: String
    public var decoder: DecoderSpec
    public var beams: Int
    /// Test windows evaluated: the first n of the draw.
    public var samples: Int
    /// HR@K and NDCG@K for the study's cut-offs, keyed "hr@10", "ndcg@10", …
    public var metrics: [String: Double]
    public var validShare: Double
    public var fullListShare: Double
    /// Decoding seconds (ranking only, not loading).
    public var seconds: Double
    public var droppedHistories: Int
    /// The GPU it was decoded on; nil: the CPU.
    public var device: String? = nil
    /// A result made outside `study run` (SASRec) may say how long its training took and where.
    public var training: ExternalTraining? = nil

    public static let cutoffs = [1, 3, 5, 10, 20]
}

/// The training of a result made outside `study run`, as its script records it.
public struct ExternalTraining: Sendable, Codable, Equatable {
    public var seconds: Double
    /// "cpu", or the GPU's device name ("cuda").
    public var device: String?
}

/// The pre-registered power check's attempts, in order.
public struct PowerCheckRecord: Sendable, Codable, Equatable {
    public struct Attempt: Sendable, Codable, Equatable {
        public var trainWindows: Int
        public var armMean: Double
        public var floorMean: Double
        public var difference: Double
        public var low: Double
        public var high: Double
        public var passed: Bool
    }
    public var arm: String
    public var against: String
    public var metric: Metric
    public var attempts: [Attempt] = []
    /// The training windows every arm uses, once decided.
    public var chosenTrainWindows: Int?
}

/// The prepared dataset as the study used it.
public struct DatasetRecord: Sendable, Codable, Equatable {
    public var users: Int
    public var catalogItems: Int
    public var duplicateTitlesMerged: Int
    public var interactions: Int
    public var trainSamples: Int
    public var validSamples: Int
    public var testSamples: Int
    /// IG and the popularity floor count targets over the whole training split.
    public var targetCountSource: String
    public var targetCountTotal: Int
    public var meanResponseTokens: Double
    public var trieNodes: Int
}

/// Zero-IG share of the training targets' tokens by position in the response (0: the opening quote).
public struct IGRecord: Sendable, Codable, Equatable {
    public struct Position: Sendable, Codable, Equatable {
        public var position: Int
        public var tokens: Int
        public var zeroShare: Double
        public var meanGain: Double
    }
    public var zeroShare: Double
    public var targetTokens: Int
    public var byPosition: [Position]
}
