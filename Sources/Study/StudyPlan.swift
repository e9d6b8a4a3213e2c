// A study plan: one dataset, the training settings every arm shares, the arms (each a name
// plus the settings it overrides), the decoders each arm is evaluated with, the test samples,
// the floors (popularity, the zero-shot model), results brought in from outside (SASRec), and
// the pre-registered power check. Written by hand as JSON; read strictly (see PlanReader), so a
// misspelt key is an error naming its line rather than a silently ignored setting.
// docs/study.md describes every key.
import CausalLM
import Decoding
import Evaluation
import Foundation
import RecData
import Training

public struct StudyPlan: Sendable, Equatable {
    /// A short name for the study (report title).
    public var name: String
    public var description: String
    /// The model every arm starts from: smollm2, a .gguf file or a Hugging Face directory.
    public var model: String
    public var dataset: DatasetSpec
    public var samples: SampleSpec
    /// What every arm shares; an arm overrides any of it.
    public var training: TrainingParameters
    public var evaluation: EvaluationSpec
    public var decoders: [DecoderSpec]
    public var arms: [ArmSpec]
    /// The arm every other arm is compared with.
    public var baseline: String
    /// Two arms that differ only in their seed: their gap is the noise floor.
    public var noiseFloor: [String]
    /// Pairs of arms the report compares directly (besides each against the baseline).
    public var contrasts: [ContrastSpec] = []
    public var powerCheck: PowerCheckSpec?
    public var floors: FloorSpec
    public var external: [ExternalSpec]
    /// Rows of another study, read from its results for the report (never run here).
    public var imports: ImportSpec? = nil

    public func arm(_ name: String) -> ArmSpec? { arms.first { $0.name == name } }
    public func decoder(_ name: String) -> DecoderSpec? { decoders.first { $0.name == name } }
}

/// The interactions and how `data prepare` turns them into samples (all of them: the study
/// draws its own samples, so that IG and popularity count the whole training split).
public struct DatasetSpec: Sendable, Equatable, Codable {
    /// ml-1m, ml-100k, or a path `data prepare --dataset` accepts.
    public var source: String
    public var split: SplitMethod = .time
    public var history = 10
    public var kcore = 0
}

/// The samples every arm shares, drawn with one seed: training windows, validation windows
/// (validation loss) and test windows (metrics). Draws are nested: the first n of a larger draw
/// are the draw of n, so a doubled training set contains the smaller one, and a decoder run on
/// the first 2,000 test windows runs on a subset of the 5,000.
public struct SampleSpec: Sendable, Equatable, Codable {
    public var seed: UInt64
    public var train: Int
    public var valid: Int
    public var test: Int
}

public struct EvaluationSpec: Sendable, Equatable, Codable {
    /// Beams per step: each beam ends in at most one item, so lists hold at most this many.
    public var beams = 10
    /// Users decoded together.
    public var batch = 16
}

public struct DecoderSpec: Sendable, Equatable, Codable {
    public var name: String
    public var igdAlpha = 0.0
    public var maskSoftmax = false
    public var lengthPenalty = 0.0
    /// Test windows decoded (the first n of the draw); nil: all of them.
    public var samples: Int?
    /// History items in each prompt, read from the user's whole sequence (nil: the dataset's
    /// stored history, `dataset.history` items).
    public var history: Int?

    public func options(beams: Int) -> DecodingOptions {
        DecodingOptions(beams: beams, count: beams, igdAlpha: igdAlpha, maskSoftmax: maskSoftmax, lengthPenalty: lengthPenalty)
    }

    public var summary: String {
        var parts: [String] = []
        if igdAlpha > 0 { parts.append("--igd-alpha \(formatSetting(igdAlpha))") }
        if maskSoftmax { parts.append("--mask-softmax") }
        if lengthPenalty != 0 { parts.append("--length-penalty \(formatSetting(lengthPenalty))") }
        if let history { parts.append("--history \(history)") }
        return parts.isEmpty ? "full-vocabulary log-softmax, λ = 0" : parts.joined(separator: " ")
    }
}

public struct ArmSpec: Sendable, Equatable {
    public var name: String
    /// The plan's training settings with this arm's overrides applied.
    public var training: TrainingParameters
    /// The keys this arm overrides, as written (for the report's settings table).
    public var overrides: [String]
    public var decoders: [String]
    /// The device the plan pins this arm to (a backend check): only a run there trains and
    /// evaluates it; nil: whichever device the run uses.
    public var device: StudyDevice? = nil
}

/// Two arms the report sets against each other on every decoder both ran: `arm` minus `minus`,
/// with the question the pair answers (e.g. IGD with β = 0 against β = 0.1). Declared in the
/// plan, so the report shows every declared pair, whichever way it comes out.
public struct ContrastSpec: Sendable, Equatable, Codable {
    public var arm: String
    public var minus: String
    public var asks: String

    public init(arm: String, minus: String, asks: String) {
        self.arm = arm
        self.minus = minus
        self.asks = asks
    }
}

/// The devices a study runs on (`study run --device`).
public enum StudyDevice: String, Sendable, Equatable, Codable, CaseIterable {
    case cpu, cuda
}

/// The pre-registered check that the study can tell methods apart: the baseline arm's metric
/// must beat the floor with a paired 95% interval above 0; if not, the training windows grow
/// to each size of `train` in turn (the same seed, so the samples are nested) and the baseline
/// is trained again, before any other arm.
public struct PowerCheckSpec: Sendable, Equatable, Codable {
    public var against: String
    public var metric: Metric
    public var train: [Int]
}

/// The rows a study makes without training an arm; their names are result directories, so no arm,
/// external or imported row may take them.
public enum Floor: String, Sendable, CaseIterable {
    case popularity
    case zeroShot = "zero-shot"

    public var name: String { rawValue }
    /// Every floor's name.
    public static let names = allCases.map(\.name)
}

public struct FloorSpec: Sendable, Equatable {
    /// Training-target frequency over the whole training split, history excluded.
    public var popularity = true
    /// Decoders to evaluate the untrained model with; empty: no zero-shot floor.
    public var zeroShot: [String] = []

    /// The floors this plan makes.
    public var enabled: [Floor] { (popularity ? [.popularity] : []) + (zeroShot.isEmpty ? [] : [.zeroShot]) }
}

/// Rows of another study on the same dataset and the same test windows (its arms, floors or
/// external results), which the report reads from that study's results directory.
public struct ImportSpec: Sendable, Equatable, Codable {
    /// The other study's directory, relative to this plan's.
    public var study: String
    public var rows: [String]
    /// Forward training tokens of imported arms whose logs predate the count (the report's
    /// tokens figure), as `study run`'s plan summary gives them.
    public var trainingTokens: [String: Int]? = nil

    public init(study: String, rows: [String], trainingTokens: [String: Int]? = nil) {
        self.study = study
        self.rows = rows
        self.trainingTokens = trainingTokens
    }
}

/// Results made outside `study run` (a classic recommender trained by a script), read from
/// DIR/results/NAME/ by the report.
public struct ExternalSpec: Sendable, Equatable, Codable {
    public var name: String
    public var description: String
    public var command: String
}

/// A metric name: ndcg@K or hr@K.
public struct Metric: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable { case ndcg, hr }
    public var kind: Kind
    public var k: Int

    public init(_ kind: Kind, _ k: Int) { self.kind = kind; self.k = k }

    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "@")
        guard parts.count == 2, let kind = Kind(rawValue: String(parts[0])), let k = Int(parts[1]), k >= 1 else { return nil }
        self.init(kind, k)
    }

    public var description: String { "\(kind.rawValue)@\(k)" }
    public var label: String { "\(kind == .ndcg ? "NDCG" : "HR")@\(k)" }

    /// The per-sample value for a target at `rank` (from 0, nil when not listed).
    public func value(rank: Int?) -> Double {
        kind == .ndcg ? RankingMetrics.ndcg(rank: rank, k: k) : RankingMetrics.hit(rank: rank, k: k)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let m = Metric(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a metric: \(text)"))
        }
        self = m
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A number as a plan or report writes it: integers without a point, others as short as exact.
public func formatSetting(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}
