// How constrained beam search ranks (docs/DESIGN.md, "Decoding"): beams, list length, IGD
// decoding's α, masked softmax, length penalty.

public struct DecodingOptions: Sendable, Hashable, Codable {
    /// B: beams kept per step.
    public var beams = 10
    /// K: items returned (K ≤ B).
    public var count = 10
    /// IGD decoding's α (0 = off; the paper uses 0.1–0.2).
    public var igdAlpha = 0.0
    /// Softmax over the valid tokens only.
    public var maskSoftmax = false
    /// λ: final score = summed step scores / length^λ (0 as in D3, 1 as in BIGRec).
    public var lengthPenalty = 0.0

    /// The IGD α values decoding accepts (0 turns IGD decoding off).
    public static let igdAlphaRange: ClosedRange<Double> = 0...1

    public init(beams: Int = 10, count: Int = 10, igdAlpha: Double = 0, maskSoftmax: Bool = false, lengthPenalty: Double = 0) {
        self.beams = beams
        self.count = count
        self.igdAlpha = igdAlpha
        self.maskSoftmax = maskSoftmax
        self.lengthPenalty = lengthPenalty
    }
}
