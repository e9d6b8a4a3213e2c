// Attention for training, forward and backward, over packed rows: keys and values come from
// the rows themselves (no KV cache), a segment may continue a shared prefix computed once for
// the batch, and the forward keeps the softmax probabilities for the backward, which *adds*
// into d qkv. Inference attention over a KV cache is in Attention.swift.
// Legend: NH = query heads, KVH = key/value heads, D = head dimension.
import COpenBLAS
import Foundation

/// Attention forward for training. Keys and values come from the packed rows themselves: a
/// segment with firstPosition f > 0 continues a shared prefix held in rows 0..<f (computed once
/// for the batch), so its rows attend to the prefix rows and then to its own rows, causally.
/// qkv (N, QKV) with q, k, v at offsets 0, NH·D, NH·D + KVH·D; out (N, NH·D);
/// probs: per segment and head an (m, f + m) block, at `probOffset[segment] + h·m·(f + m)`.
public func attentionTrainForward(
    _ out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, QKV: Int,
    segments: [AttentionSegment], probOffset: [Int], shape: AttentionShape
) {
    let (NH, KVH, D) = (shape.NH, shape.KVH, shape.D)
    let group = NH / KVH, qw = NH * D, kvw = KVH * D
    let scale = 1 / Float(D).squareRoot()
    let shared = Shared((out: out, probs: probs, qkv: qkv))
    let tasks = segments.count * NH
    Parallel.perform(min(Parallel.workers, max(tasks, 1))) { w in
        var task = w
        while task < tasks {
            let seg = segments[task / NH], h = task % NH, m = seg.rows, f = seg.firstPosition, n = f + m
            let base = shared.value.qkv + seg.firstRow * QKV, prefix = shared.value.qkv
            let kvOff = (h / group) * D
            let q = base + h * D
            let p = shared.value.probs + probOffset[task / NH] + h * m * n
            // scores (m, n) = scale · Q · [K_prefix; K_own]ᵀ
            if f > 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(f), Int32(D), scale, q, Int32(QKV),
                            prefix + qw + kvOff, Int32(QKV), 0, p, Int32(n))
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(D), scale, q, Int32(QKV),
                        base + qw + kvOff, Int32(QKV), 0, p + f, Int32(n))
            for i in 0..<m { causalSoftmaxRow(p + i * n, visible: f + i + 1, width: n) }
            // out (m, D) = P · [V_prefix; V_own]
            let o = shared.value.out + seg.firstRow * qw + h * D
            if f > 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(D), Int32(f), 1, p, Int32(n),
                            prefix + qw + kvw + kvOff, Int32(QKV), 0, o, Int32(qw))
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(D), Int32(m), 1, p + f, Int32(n),
                        base + qw + kvw + kvOff, Int32(QKV), f > 0 ? 1 : 0, o, Int32(qw))
            task += Parallel.workers
        }
    }
}

/// The backward of `attentionTrainForward`: dqkv (N, QKV) += gradients of q, k, v, with
/// dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ += scale·dS·K, dK += scale·dSᵀ·Q.
/// One task per KV head, looping over the segments: every segment adds into the shared prefix's
/// dK and dV, so each KV head's slice of them must have a single writer.
/// scratch ≥ workers · max(m · (f + m)) floats.
public func attentionTrainBackward(
    dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probs: UnsafePointer<Float>, qkv: UnsafePointer<Float>, QKV: Int,
    segments: [AttentionSegment], probOffset: [Int], shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
) {
    let (NH, KVH, D) = (shape.NH, shape.KVH, shape.D)
    let group = NH / KVH, qw = NH * D, kvw = KVH * D
    let scale = 1 / Float(D).squareRoot()
    let block = segments.map { $0.rows * ($0.firstPosition + $0.rows) }.max() ?? 0
    let shared = Shared((dqkv: dqkv, dout: dout, probs: probs, qkv: qkv, scratch: scratch))
    Parallel.perform(min(Parallel.workers, KVH)) { w in
        let dp = shared.value.scratch + w * block
        var kvh = w
        while kvh < KVH {
            for (si, seg) in segments.enumerated() {
                let m = seg.rows, f = seg.firstPosition, n = f + m
                let base = shared.value.qkv + seg.firstRow * QKV, dbase = shared.value.dqkv + seg.firstRow * QKV
                let prefix = shared.value.qkv, dprefix = shared.value.dqkv
                let kOff = qw + kvh * D, vOff = qw + kvw + kvh * D
                for h in (kvh * group)..<((kvh + 1) * group) {
                    let p = shared.value.probs + probOffset[si] + h * m * n
                    let dO = shared.value.dout + seg.firstRow * qw + h * D
                    let q = base + h * D, dq = dbase + h * D
                    // dV += Pᵀ · dO, for the prefix rows and the own rows
                    if f > 0 {
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(f), Int32(D), Int32(m), 1, p, Int32(n), dO, Int32(qw),
                                    1, dprefix + vOff, Int32(QKV))
                    }
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(D), Int32(m), 1, p + f, Int32(n), dO, Int32(qw),
                                1, dbase + vOff, Int32(QKV))
                    // dP (m, n) = dO · [V_prefix; V_own]ᵀ
                    if f > 0 {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(f), Int32(D), 1, dO, Int32(qw),
                                    prefix + vOff, Int32(QKV), 0, dp, Int32(n))
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(D), 1, dO, Int32(qw),
                                base + vOff, Int32(QKV), 0, dp + f, Int32(n))
                    // dS = P ⊙ (dP − Σ P·dP), scaled by 1/√D for both products below.
                    for i in 0..<m {
                        let pr = p + i * n, dr = dp + i * n, visible = f + i + 1
                        var dotPP: Float = 0
                        for s in 0..<visible { dotPP += pr[s] * dr[s] }
                        for s in 0..<visible { dr[s] = pr[s] * (dr[s] - dotPP) * scale }
                        for s in visible..<n { dr[s] = 0 }
                    }
                    // dQ += dS · [K_prefix; K_own];  dK += dSᵀ · Q
                    if f > 0 {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(D), Int32(f), 1, dp, Int32(n),
                                    prefix + kOff, Int32(QKV), 1, dq, Int32(QKV))
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(f), Int32(D), Int32(m), 1, dp, Int32(n), q, Int32(QKV),
                                    1, dprefix + kOff, Int32(QKV))
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(D), Int32(m), 1, dp + f, Int32(n),
                                base + kOff, Int32(QKV), 1, dq, Int32(QKV))
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(D), Int32(m), 1, dp + f, Int32(n), q, Int32(QKV),
                                1, dbase + kOff, Int32(QKV))
                }
            }
            kvh += Parallel.workers
        }
    }
}
