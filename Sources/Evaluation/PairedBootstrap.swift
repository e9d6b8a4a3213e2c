// Comparing two evaluations of the same samples: the mean difference (B − A) of a per-sample
// metric with a paired bootstrap 95% confidence interval — samples drawn with replacement,
// the same draw for both sides, the 2.5th and 97.5th percentiles of the resampled mean difference.
import Support

public struct PairedComparison: Sendable, Equatable {
    public var meanA: Double
    public var meanB: Double
    /// mean(B) − mean(A) and its 95% interval.
    public var difference: Double
    public var low: Double
    public var high: Double
}

public enum PairedBootstrap {
    public static func compare(_ a: [Double], _ b: [Double], resamples: Int = 1000, seed: UInt64 = 42) -> PairedComparison {
        precondition(a.count == b.count && !a.isEmpty, "paired samples of equal, non-zero length")
        let n = a.count
        let diffs = zip(a, b).map { $1 - $0 }
        let meanA = a.reduce(0, +) / Double(n), meanB = b.reduce(0, +) / Double(n)
        var rng = SeededGenerator(seed: seed)
        var means: [Double] = []
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sum = 0.0
            for _ in 0..<n { sum += diffs[rng.below(n)] }
            means.append(sum / Double(n))
        }
        means.sort()
        func percentile(_ p: Double) -> Double {
            // Linear interpolation between order statistics (numpy's default).
            let x = p * Double(means.count - 1)
            let lo = Int(x.rounded(.down)), hi = min(lo + 1, means.count - 1)
            return means[lo] + (means[hi] - means[lo]) * (x - Double(lo))
        }
        return PairedComparison(meanA: meanA, meanB: meanB, difference: meanB - meanA, low: percentile(0.025), high: percentile(0.975))
    }
}
