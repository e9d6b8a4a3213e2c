// Rotary position embedding in Hugging Face's "rotate half" layout: channel i of a head pairs
// with channel i + D/2, rotated by angle pos · θ^(−2i/D) (Llama 3 frequency scaling applied to
// the inverse frequencies when the model asks for it). Legend: D = head dimension.
import Foundation

public struct RoPETable: Sendable {
    public let headDim: Int
    public let maxPositions: Int
    /// (maxPositions, D/2) cosines and sines.
    let cos: [Float]
    let sin: [Float]
    /// The tables, for a backend that keeps its own copy (the CUDA backend uploads them once).
    public var cosines: [Float] { cos }
    public var sines: [Float] { sin }

    /// Llama 3 "rope_scaling" (rope_type llama3): long wavelengths slowed down by `factor`.
    public struct Llama3Scaling: Sendable, Equatable {
        public var factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Double
        /// The divisor of each inverse frequency this scaling amounts to (what GGUF's rope_freqs holds).
        public func frequencyFactors(headDim D: Int, theta: Double) -> [Float] {
            return (0..<D / 2).map { i in
                let f = 1 / pow(theta, Double(2 * i) / Double(D))
                return Float(f / scaled(f))
            }
        }

        /// transformers' _compute_llama3_parameters for one inverse frequency.
        func scaled(_ f: Double) -> Double {
            let lowWavelen = originalMaxPositions / lowFreqFactor
            let highWavelen = originalMaxPositions / highFreqFactor
            let wavelen = 2 * Double.pi / f
            if wavelen < highWavelen { return f }
            if wavelen > lowWavelen { return f / factor }
            let smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
            return (1 - smooth) * f / factor + smooth * f
        }

        public init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Double) {
            self.factor = factor
            self.lowFreqFactor = lowFreqFactor
            self.highFreqFactor = highFreqFactor
            self.originalMaxPositions = originalMaxPositions
        }
    }

    /// - Parameter frequencyFactors: per-frequency divisors (D/2), as GGUF Llama 3 files store the
    ///   llama3 scaling in `rope_freqs.weight` (llama.cpp's freq_factors); applied after `llama3Scaling`.
    public init(headDim D: Int, theta: Double, maxPositions: Int, llama3Scaling: Llama3Scaling? = nil,
                frequencyFactors: [Float]? = nil) {
        headDim = D
        self.maxPositions = maxPositions
        let half = D / 2
        var invFreq = (0..<half).map { 1 / pow(theta, Double(2 * $0) / Double(D)) }
        if let s = llama3Scaling { invFreq = invFreq.map(s.scaled) }
        if let f = frequencyFactors {
            precondition(f.count == half, "one frequency factor per rotated pair")
            invFreq = zip(invFreq, f).map { $0 / Double($1) }
        }
        // Angles in Float32 as transformers computes them (inv_freq float32 · position float32).
        var c = [Float](repeating: 0, count: maxPositions * half), sn = c
        for p in 0..<maxPositions {
            for i in 0..<half {
                let angle = Float(p) * Float(invFreq[i])
                c[p * half + i] = Foundation.cos(angle)
                sn[p * half + i] = Foundation.sin(angle)
            }
        }
        cos = c
        sin = sn
    }

    /// Rotates `heads` heads of one token at position `pos`, in place: x (heads, D).
    @inline(__always)
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, pos: Int) { rotate(x, heads: heads, pos: pos, sinSign: 1) }

    /// The backward of `apply`: the rotation's transpose, i.e. the rotation by the opposite angle.
    @inline(__always)
    public func applyInverse(_ x: UnsafeMutablePointer<Float>, heads: Int, pos: Int) { rotate(x, heads: heads, pos: pos, sinSign: -1) }

    @inline(__always)
    private func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, pos: Int, sinSign: Float) {
        let half = headDim / 2
        cos.withUnsafeBufferPointer { cb in
            sin.withUnsafeBufferPointer { sb in
                let c = cb.baseAddress! + pos * half, s = sb.baseAddress! + pos * half
                for h in 0..<heads {
                    let v = x + h * headDim
                    for i in 0..<half {
                        let a = v[i], b = v[i + half], sn = sinSign * s[i]
                        v[i] = a * c[i] - b * sn
                        v[i + half] = b * c[i] + a * sn
                    }
                }
            }
        }
    }
}
