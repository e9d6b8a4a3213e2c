// The fine-tuning losses over response positions (docs/DESIGN.md, "Losses"): CE; IGD's weighted
// CE (arXiv 2506.13229); MSL's masked softmax (arXiv 2504.04178); and the two combined —
// each computing the loss and its gradient with respect to the logits in one pass per row:
//   ce       ℓ_t = −log softmax(z)_y over the vocabulary; mean over positions
//   igd      the same ℓ_t with weights w_t = β for zero-IG tokens (EOS included), else 1; Σ w ℓ / Σ w
//   msl      ℓ_t = −z_y/τ + log Σ_{v∈V_t} exp(z_v/τ) over the valid next tokens V_t (sparse, never a
//            dense position × vocabulary mask); mean over positions with |V_t| > 1; × τ under ATS
//   msl+igd  the MSL token loss with IGD weights, over positions with |V_t| > 1
// Legend: P = scored positions, V = vocabulary.
import Foundation
import ItemIndex
import Kernels

public enum LossKind: String, Sendable, Codable, CaseIterable {
    case ce, igd, msl
    case mslIGD = "msl+igd"

    /// The MSL losses: softmax over the valid next tokens (and what ATS applies to).
    public var masked: Bool { self == .msl || self == .mslIGD }
    var weighted: Bool { self == .igd || self == .mslIGD }
}

/// One response position to score: the target token, the tokens the catalog trie allows
/// after the target's prefix (sorted), and the position's IG.
public struct ScoredPosition: Sendable {
    public var target: Int32
    public var valid: [Int32]
    public var informationGain: Double
    public var isEOS: Bool

    public init(target: Int32, valid: [Int32], informationGain: Double, isEOS: Bool) {
        self.target = target
        self.valid = valid
        self.informationGain = informationGain
        self.isEOS = isEOS
    }
}

public struct LossSettings: Sendable, Codable, Equatable {
    public var kind: LossKind
    /// IGD's weight of zero-IG tokens.
    public var beta: Double = 0.1
    /// MSL's temperature (fixed, or the current ATS value).
    public var tau: Double = 1
    /// Under ATS the loss (and gradient) is multiplied by τ.
    public var scaleByTau = false

    public init(kind: LossKind, beta: Double = 0.1, tau: Double = 1, scaleByTau: Bool = false) {
        self.kind = kind
        self.beta = beta
        self.tau = tau
        self.scaleByTau = scaleByTau
    }
}

/// The IGD weight of a position: β for zero-IG tokens (EOS always), else 1.
public func igdWeight(_ p: ScoredPosition, beta: Double) -> Double {
    p.isEOS || InformationGain.isZero(p.informationGain) ? beta : 1
}

/// Each loss, described once for every engine: per scored position, its scale in the batch's loss
/// (its weight — 1, or IGD's β for zero-IG tokens — over the batch's sum of weights, times τ under
/// ATS; 0 for a position that does not count, |V_t| = 1 under MSL) and which softmax it takes:
/// over the whole vocabulary, or over its valid next tokens at temperature τ. An engine then runs
/// plain row operations (Training/TokenLoss.swift's rows here, the CUDA kernels on a GPU).
public struct LossRows: Sendable {
    /// Scale of each position's term in the loss (and of its gradient).
    public let scales: [Double]
    /// nil: softmax over the vocabulary (CE, IGD); else the τ of the softmax over the valid set (MSL).
    public let maskedTau: Double?

    public init(_ settings: LossSettings, positions: [ScoredPosition]) {
        let kind = settings.kind
        let weights = positions.map { p in
            kind.masked && p.valid.count <= 1 ? 0 : kind.weighted ? igdWeight(p, beta: settings.beta) : 1
        }
        let total = weights.reduce(0, +)
        let outer = kind.masked && settings.scaleByTau ? settings.tau : 1
        scales = weights.map { total > 0 ? outer * $0 / total : 0 }
        maskedTau = kind.masked ? settings.tau : nil
    }
}

/// The loss over `positions` with logits (P, V); writes d loss / d logits into `grad` (P, V).
/// Rows that do not count (|V_t| = 1 under MSL) get a zero gradient.
public func tokenLoss(
    _ settings: LossSettings, logits: UnsafePointer<Float>, V: Int, positions: [ScoredPosition],
    grad: UnsafeMutablePointer<Float>
) -> Double {
    let P = positions.count
    grad.initialize(repeating: 0, count: P * V)
    let rows = LossRows(settings, positions: positions)
    // Rows are independent: spread over the workers (sequence batches score thousands of
    // full-vocabulary rows), each row's term summed afterwards in order.
    let terms = UnsafeMutableBufferPointer<Double>.allocate(capacity: P)
    defer { terms.deallocate() }
    terms.initialize(repeating: 0)
    let shared = Shared((logits: logits, grad: grad, terms: terms))
    Parallel.chunks(P, minChunk: rows.maskedTau == nil ? 4 : 256) { range in
        let (logits, grad, terms) = shared.value
        for t in range where rows.scales[t] > 0 {
            let p = positions[t], row = logits + t * V, g = grad + t * V, scale = rows.scales[t]
            if let tau = rows.maskedTau {
                terms[t] = scale * maskedRow(row, valid: p.valid, target: p.target, tau: tau, grad: g, scale: scale)
            } else {
                terms[t] = scale * fullRow(row, V: V, target: p.target, grad: g, scale: scale)
            }
        }
    }
    return terms.reduce(0, +)
}

/// −log softmax(z)_y over the whole row; grad = scale · (softmax − onehot). Eight lanes at a
/// time with exp8 (within 2 ulp of expf), the sum of exponentials carried in Float lanes and
/// added in Double.
private func fullRow(_ z: UnsafePointer<Float>, V: Int, target: Int32, grad: UnsafeMutablePointer<Float>, scale: Double) -> Double {
    let full = V / 8 * 8
    var m8 = SIMD8<Float>(repeating: -.infinity)
    var v = 0
    while v < full {
        let x = UnsafeRawPointer(z + v).loadUnaligned(as: SIMD8<Float>.self)
        m8.replace(with: x, where: x .> m8)
        v += 8
    }
    var m = m8.max()
    for v in full..<V { m = max(m, z[v]) }
    let mv = SIMD8<Float>(repeating: m)
    var sum8 = SIMD8<Float>()
    var sum = 0.0
    v = 0
    while v < full {
        sum8 += exp8(UnsafeRawPointer(z + v).loadUnaligned(as: SIMD8<Float>.self) - mv)
        v += 8
        // Float lanes stay exact enough over a few thousand terms; fold them into Double.
        if v % 4096 == 0 { sum += Double(sum8.sum()); sum8 = SIMD8() }
    }
    sum += Double(sum8.sum())
    for v in full..<V { sum += Double(expf(z[v] - m)) }
    let lse = Double(m) + log(sum)
    // grad_v = scale · exp(z_v − lse), the shift in Float.
    let shift = SIMD8<Float>(repeating: Float(lse)), s8 = SIMD8<Float>(repeating: Float(scale))
    v = 0
    while v < full {
        let e = exp8(UnsafeRawPointer(z + v).loadUnaligned(as: SIMD8<Float>.self) - shift)
        UnsafeMutableRawPointer(grad + v).storeBytes(of: s8 * e, as: SIMD8<Float>.self)
        v += 8
    }
    for v in full..<V { grad[v] = Float(scale * exp(Double(z[v]) - lse)) }
    grad[Int(target)] -= Float(scale)
    return lse - Double(z[Int(target)])
}

/// −z_y/τ + log Σ_{v∈V} exp(z_v/τ); grad_v += scale · (softmax_τ(z_V)_v − 1[v = y]) / τ on the valid set only.
private func maskedRow(_ z: UnsafePointer<Float>, valid: [Int32], target: Int32, tau: Double,
                       grad: UnsafeMutablePointer<Float>, scale: Double) -> Double {
    var m = -Double.infinity
    for v in valid { m = max(m, Double(z[Int(v)]) / tau) }
    var sum = 0.0
    for v in valid { sum += exp(Double(z[Int(v)]) / tau - m) }
    let lse = m + log(sum)
    for v in valid { grad[Int(v)] = Float(scale * exp(Double(z[Int(v)]) / tau - lse) / tau) }
    grad[Int(target)] -= Float(scale / tau)
    return lse - Double(z[Int(target)]) / tau
}
