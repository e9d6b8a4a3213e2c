// Attention for training, forward and backward, over packed rows: keys and values come from
// the rows themselves (no KV cache), a segment may continue a shared prefix computed once for
// the batch, and the forward keeps the softmax probabilities for the backward, which *adds*
// into d qkv. Inference attention over a KV cache is in Attention.swift.
// Legend: NH = query heads, KVH = key/value heads, D = head dimension.
import COpenBLAS
import Foundation

/// Own rows per block of the causal products: a block's queries see keys up to its last row only.
let causalBlock = 64

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
            let o = shared.value.out + seg.firstRow * qw + h * D
            // Row blocks of the own rows: block [i0, i1) sees the prefix and own keys 0..<i1 only,
            // so the products skip the masked upper triangle (half the work of a long row).
            for i0 in stride(from: 0, to: m, by: causalBlock) {
                let i1 = min(m, i0 + causalBlock), rows = Int32(i1 - i0)
                let qb = q + i0 * QKV, pb = p + i0 * n
                // scores (rows, f + i1) = scale · Q · [K_prefix; K_own[..<i1]]ᵀ
                if f > 0 {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, Int32(f), Int32(D), scale, qb, Int32(QKV),
                                prefix + qw + kvOff, Int32(QKV), 0, pb, Int32(n))
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, Int32(i1), Int32(D), scale, qb, Int32(QKV),
                            base + qw + kvOff, Int32(QKV), 0, pb + f, Int32(n))
                // The softmax zeroes each row beyond its visible keys (the part never computed too).
                for i in i0..<i1 { causalSoftmaxRow(p + i * n, visible: f + i + 1, width: n) }
                // out (rows, D) = P · [V_prefix; V_own[..<i1]]
                let ob = o + i0 * qw
                if f > 0 {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, Int32(D), Int32(f), 1, pb, Int32(n),
                                prefix + qw + kvw + kvOff, Int32(QKV), 0, ob, Int32(qw))
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, Int32(D), Int32(i1), 1, pb + f, Int32(n),
                            base + qw + kvw + kvOff, Int32(QKV), f > 0 ? 1 : 0, ob, Int32(qw))
            }
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
                    // Row blocks as in the forward: block [i0, i1) involves own keys 0..<i1 only.
                    for i0 in stride(from: 0, to: m, by: causalBlock) {
                        let i1 = min(m, i0 + causalBlock), rows = Int32(i1 - i0)
                        let pb = p + i0 * n, db = dp + i0 * n, dOb = dO + i0 * qw, qb = q + i0 * QKV
                        // dV += Pᵀ · dO, for the prefix rows and own rows 0..<i1
                        if f > 0 {
                            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(f), Int32(D), rows, 1, pb, Int32(n), dOb, Int32(qw),
                                        1, dprefix + vOff, Int32(QKV))
                        }
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(i1), Int32(D), rows, 1, pb + f, Int32(n), dOb, Int32(qw),
                                    1, dbase + vOff, Int32(QKV))
                        // dP (rows, f + i1) = dO · [V_prefix; V_own[..<i1]]ᵀ
                        if f > 0 {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, Int32(f), Int32(D), 1, dOb, Int32(qw),
                                        prefix + vOff, Int32(QKV), 0, db, Int32(n))
                        }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, Int32(i1), Int32(D), 1, dOb, Int32(qw),
                                    base + vOff, Int32(QKV), 0, db + f, Int32(n))
                        // dS = P ⊙ (dP − Σ P·dP), scaled by 1/√D for both products below; zero past
                        // the visible keys (up to f + i1, as far as the products below read).
                        for i in i0..<i1 {
                            let pr = p + i * n, dr = dp + i * n, visible = f + i + 1
                            var dotPP: Float = 0
                            for s in 0..<visible { dotPP += pr[s] * dr[s] }
                            for s in 0..<visible { dr[s] = pr[s] * (dr[s] - dotPP) * scale }
                            for s in visible..<(f + i1) { dr[s] = 0 }
                        }
                        // dQ += dS · [K_prefix; K_own[..<i1]];  dK += dSᵀ · Q
                        if f > 0 {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, Int32(D), Int32(f), 1, db, Int32(n),
                                        prefix + kOff, Int32(QKV), 1, dq + i0 * QKV, Int32(QKV))
                            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(f), Int32(D), rows, 1, db, Int32(n), qb, Int32(QKV),
                                        1, dprefix + kOff, Int32(QKV))
                        }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, Int32(D), Int32(i1), 1, db + f, Int32(n),
                                    base + kOff, Int32(QKV), 1, dq + i0 * QKV, Int32(QKV))
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(i1), Int32(D), rows, 1, db + f, Int32(n), qb, Int32(QKV),
                                    1, dbase + kOff, Int32(QKV))
                    }
                }
            }
            kvh += Parallel.workers
        }
    }
}
