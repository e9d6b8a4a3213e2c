// AdamW over flat buffers (one loop over the whole parameter vector, as llm.c's gpt2_update),
// with PyTorch's torch.optim.AdamW semantics: decoupled weight decay p ← p·(1 − lr·λ), then
//   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,  p ← p − lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε).
// Also clipping by global norm, as torch.nn.utils.clip_grad_norm_.
import Foundation
import Kernels

public struct AdamWSettings: Sendable, Codable, Equatable {
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var eps = 1e-8
    public var weightDecay = 0.0
    public init(beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    /// The Float32 constants of update number `step` (from 1) at learning rate `lr`: lr/(1 − β1ᵗ),
    /// √(1 − β2ᵗ) and the decay factor 1 − lr·λ (computed in Double, as torch does on the host).
    public func constants(step: Int, lr: Double) -> (stepSize: Float, bc2Root: Float, decay: Float) {
        let bc1 = 1 - pow(beta1, Double(step)), bc2 = 1 - pow(beta2, Double(step))
        return (Float(lr / bc1), Float(bc2.squareRoot()), Float(1 - lr * weightDecay))
    }
}

/// The optimiser state: first and second moments, mirroring the trainable parameters, and the step.
public final class AdamW: @unchecked Sendable {
    public let settings: AdamWSettings
    public let count: Int
    public let m: UnsafeMutablePointer<Float>
    public let v: UnsafeMutablePointer<Float>
    public private(set) var step = 0

    public init(count: Int, settings: AdamWSettings) {
        self.count = count
        self.settings = settings
        m = .allocate(capacity: max(count, 1))
        v = .allocate(capacity: max(count, 1))
        m.initialize(repeating: 0, count: count)
        v.initialize(repeating: 0, count: count)
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// Sets the step count when resuming from a checkpoint (the moments are read into m and v).
    public func restore(step: Int) { self.step = step }

    /// One update of `params` (count) with `grads` (count) at learning rate `lr`.
    public func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, lr: Double) {
        step += 1
        let s = settings
        let (stepSize, bc2Root, decay) = s.constants(step: step, lr: lr)
        let (b1, b2, eps) = (Float(s.beta1), Float(s.beta2), Float(s.eps))
        let p = Shared((params: params, grads: grads, m: m, v: v))
        Parallel.chunks(count, minChunk: 1 << 16) { r in
            let (params, grads, m, v) = p.value
            for i in r {
                let g = grads[i]
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                params[i] = params[i] * decay - stepSize * m[i] / (v[i].squareRoot() / bc2Root + eps)
            }
        }
    }
}

/// Scales `grads` so that their global L2 norm is at most `maxNorm`; returns the norm before clipping.
/// As clip_grad_norm_: coefficient maxNorm / (norm + 1e-6), applied only when below 1.
@discardableResult
public func clipGradientNorm(_ grads: UnsafeMutablePointer<Float>, count: Int, maxNorm: Double) -> Double {
    // Partial sums per chunk, combined in chunk order (deterministic).
    let chunks = Parallel.workers
    let sums = UnsafeMutablePointer<Double>.allocate(capacity: chunks)
    sums.initialize(repeating: 0, count: chunks)
    defer { sums.deallocate() }
    let p = Shared((grads: grads, sums: sums))
    Parallel.perform(chunks) { k in
        var s = 0.0
        for i in Parallel.share(k, of: chunks, count) { s += Double(p.value.grads[i]) * Double(p.value.grads[i]) }
        p.value.sums[k] = s
    }
    let norm = (0..<chunks).reduce(0.0) { $0 + sums[$1] }.squareRoot()
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        let c = Float(coefficient)
        Parallel.chunks(count, minChunk: 1 << 16) { r in for i in r { p.value.grads[i] *= c } }
    }
    return norm
}
