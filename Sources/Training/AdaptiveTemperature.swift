// MSL's Adaptive Temperature Strategy (arXiv 2504.04178; docs/DESIGN.md, "Losses"): each step, from every sample's first response position
// with enough valid tokens for τ* to be defined (TrainingParameters.atsMinValid), pool μ⁺ = mean target logit, μ and σ² = mean and unbiased
// variance of all valid-set logits there (target included); with Δμ = μ⁺ − μ and C = ln(η·N₁),
//   τ* = (Δμ + sqrt(max(Δμ² − 2Cσ², 0))) / (2C), clamped to [1.5, 5];  τ ← 0.95·τ + 0.05·τ*.
// The update is skipped when C ≤ 0.01: the reference implementation divides by zero there.
import Foundation

public struct AdaptiveTemperature: Sendable, Codable, Equatable {
    public private(set) var tau: Double
    public var eta = 0.25
    public var momentum = 0.95
    public var range: ClosedRange<Double> = 1.5...5

    public init(start: Double = 1.5) { tau = start }

    /// C at or below which the update is skipped (the reference divides by zero at C = 0).
    static let smallestC = 0.01

    /// The smallest valid set N₁ at which the update is not skipped: ln(η·N₁) > smallestC.
    public static func smallestDefinedValidSet(eta: Double = AdaptiveTemperature().eta) -> Int {
        var n = 2
        while log(eta * Double(n)) <= smallestC { n += 1 }
        return n
    }

    /// The statistics of one step, for the log.
    public struct Step: Sendable, Equatable {
        /// τ* as used (clamped), and before the clamp: how far outside the range the data put it.
        public var tauStar: Double?
        public var unclamped: Double? = nil
        public var skipped: Bool
        public var deltaMu: Double, variance: Double, c: Double
    }

    /// Updates τ from the first-position logit rows; each entry: the row (V), its valid set, the target.
    /// N₁ is the size of the valid set there (the mean size if samples reach different nodes).
    @discardableResult
    public mutating func update(firstPositions: [(row: UnsafePointer<Float>, valid: [Int32], target: Int32)]) -> Step {
        var targetSum = 0.0, n = 0
        var values: [Double] = []
        var validSizes = 0.0
        for p in firstPositions where p.valid.count > 1 {
            targetSum += Double(p.row[Int(p.target)])
            n += 1
            validSizes += Double(p.valid.count)
            for v in p.valid { values.append(Double(p.row[Int(v)])) }
        }
        guard n > 0, values.count > 1 else { return Step(tauStar: nil, skipped: true, deltaMu: 0, variance: 0, c: 0) }
        let muPlus = targetSum / Double(n)
        let mu = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(values.count - 1)
        let deltaMu = muPlus - mu
        let c = log(eta * validSizes / Double(n))
        guard c > Self.smallestC else { return Step(tauStar: nil, skipped: true, deltaMu: deltaMu, variance: variance, c: c) }
        let root = (max(deltaMu * deltaMu - 2 * c * variance, 0)).squareRoot()
        let unclamped = (deltaMu + root) / (2 * c)
        let tauStar = min(max(unclamped, range.lowerBound), range.upperBound)
        tau = momentum * tau + (1 - momentum) * tauStar
        return Step(tauStar: tauStar, unclamped: unclamped, skipped: false, deltaMu: deltaMu, variance: variance, c: c)
    }
}

