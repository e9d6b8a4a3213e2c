// Backward kernels, one per forward kernel, in llm.c's style: each takes the forward's inputs
// (or what it saved) and the gradient of its output, and *adds* into the gradients of its inputs
// and parameters. Legend as in the forward kernels.
import COpenBLAS
import Dispatch
import Foundation

/// For out = inp · Wᵀ + b:  dinp (N, C) += dout · W;  dW (OC, C) += doutᵀ · inp;  db (OC) += Σ_n dout.
/// `dweight` nil skips the weight gradient (frozen weights get only the input gradient).
public func matmulBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int
) {
    let p = Shared((dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight))
    // dinp: split by input channels; dW and db: split by output channels. Disjoint writes either way.
    if dinp != nil {
        Parallel.chunks(C, minChunk: 64, align: 16) { r in
            let v = p.value
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(N), Int32(r.count), Int32(OC),
                        1, v.dout, Int32(OC), v.weight + r.lowerBound, Int32(C), 1, v.dinp! + r.lowerBound, Int32(C))
        }
    }
    if dweight != nil || dbias != nil {
        Parallel.chunks(OC, minChunk: 64, align: 16) { r in
            let v = p.value
            if let dw = v.dweight {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(r.count), Int32(C), Int32(N),
                            1, v.dout + r.lowerBound, Int32(OC), v.inp, Int32(C), 1, dw + r.lowerBound * C, Int32(C))
            }
            if let db = v.dbias {
                for n in 0..<N { for o in r { db[o] += v.dout[n * OC + o] } }
            }
        }
    }
}

/// RMSNorm forward that also saves rstd (N) for the backward pass.
public func rmsNormForward(_ out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                           _ weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float) {
    for n in 0..<N {
        let x = inp + n * C
        rstd[n] = 1 / (dot(x, x, C) / Float(C) + eps).squareRoot()
    }
    rmsNormForward(out, inp, weight, N: N, C: C, eps: eps)
}

/// For y = x · rstd · w:  dx += rstd · (g − x · rstd² · mean(g · x)) with g = dy · w;  dw += Σ_n dy · x · rstd.
public func rmsNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
) {
    // Rows in parallel; each chunk sums its own share of dw, added up afterwards in chunk order
    // (deterministic, so a resumed run repeats bit for bit).
    let chunks = Parallel.workers
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * C)
    partial.initialize(repeating: 0, count: chunks * C)
    defer { partial.deallocate() }
    let step = (N + chunks - 1) / max(chunks, 1)
    let p = Shared((dinp: dinp, dout: dout, inp: inp, weight: weight, rstd: rstd, partial: partial))
    DispatchQueue.concurrentPerform(iterations: chunks) { k in
        let v = p.value
        let dw = v.partial + k * C
        for n in (k * step)..<min(N, (k + 1) * step) {
            let x = v.inp + n * C, dy = v.dout + n * C, dx = v.dinp + n * C
            let r = v.rstd[n]
            var gx: Float = 0
            for c in 0..<C { gx += dy[c] * v.weight[c] * x[c] }
            let kk = r * r * r * gx / Float(C)
            for c in 0..<C { dx[c] += r * dy[c] * v.weight[c] - kk * x[c] }
            for c in 0..<C { dw[c] += dy[c] * x[c] * r }
        }
    }
    if let dweight {
        for k in 0..<chunks { addInPlace(dweight, partial + k * C, count: C) }
    }
}

/// For h = silu(g) · u from gateUp (N, 2H) = [g | u]:  dgateUp (N, 2H) = [dh · u · silu'(g) | dh · silu(g)]
/// (written, not added), silu'(g) = σ(g) · (1 + g · (1 − σ(g))).
public func swigluBackward(dgateUp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, gateUp: UnsafePointer<Float>, rows N: Int, H: Int) {
    let p = Shared((dgateUp: dgateUp, dout: dout, gateUp: gateUp))
    Parallel.chunks(N, minChunk: 4) { rows in
        let v = p.value
        for r in rows {
            let g = v.gateUp + r * 2 * H, u = g + H, dh = v.dout + r * H, dg = v.dgateUp + r * 2 * H, du = dg + H
            for i in 0..<H {
                let s = 1 / (1 + expf(-g[i]))
                du[i] = dh[i] * g[i] * s
                dg[i] = dh[i] * u[i] * s * (1 + g[i] * (1 - s))
            }
        }
    }
}

/// Sets `count` floats to zero, in parallel (gradient buffers are hundreds of megabytes).
public func zeroFill(_ x: UnsafeMutablePointer<Float>, count: Int) {
    let p = Shared(x)
    Parallel.chunks(count, minChunk: 1 << 18) { r in (p.value + r.lowerBound).initialize(repeating: 0, count: r.count) }
}

extension RoPETable {
    /// The backward of `apply`: the rotation's transpose, i.e. the rotation by the opposite angle.
    public func applyInverse(_ x: UnsafeMutablePointer<Float>, heads: Int, pos: Int) {
        let half = headDim / 2
        cos.withUnsafeBufferPointer { cb in
            sin.withUnsafeBufferPointer { sb in
                let c = cb.baseAddress! + pos * half, s = sb.baseAddress! + pos * half
                for h in 0..<heads {
                    let v = x + h * headDim
                    for i in 0..<half {
                        let a = v[i], b = v[i + half]
                        v[i] = a * c[i] + b * s[i]
                        v[i + half] = b * c[i] - a * s[i]
                    }
                }
            }
        }
    }
}

/// Attention forward for training: keys and values come from the packed rows themselves
/// (each segment attends within itself, from position 0), and the probabilities are saved.
/// qkv (N, QKV) with q, k, v at offsets 0, NH·D, NH·D + KVH·D; out (N, NH·D);
/// probs: per segment and head an (m, m) block, at offsets `probOffset[segment] + h·m·m`.
public func attentionTrainForward(
    _ out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, QKV: Int,
    segments: [AttentionSegment], probOffset: [Int], shape: AttentionShape
) {
    let (NH, KVH, D) = (shape.NH, shape.KVH, shape.D)
    let group = NH / KVH, qw = NH * D, kvw = KVH * D
    let scale = 1 / Float(D).squareRoot()
    let shared = Shared((out: out, probs: probs, qkv: qkv))
    let tasks = segments.count * NH
    DispatchQueue.concurrentPerform(iterations: min(Parallel.workers, max(tasks, 1))) { w in
        var task = w
        while task < tasks {
            let seg = segments[task / NH], h = task % NH, m = seg.rows
            let base = shared.value.qkv + seg.firstRow * QKV
            let q = base + h * D, k = base + qw + (h / group) * D, v = base + qw + kvw + (h / group) * D
            let p = shared.value.probs + probOffset[task / NH] + h * m * m
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(D), scale, q, Int32(QKV), k, Int32(QKV), 0, p, Int32(m))
            for i in 0..<m {
                let row = p + i * m
                var mx = -Float.infinity
                for s in 0...i { mx = max(mx, row[s]) }
                var sum: Float = 0
                for s in 0...i { row[s] = expf(row[s] - mx); sum += row[s] }
                for s in 0...i { row[s] /= sum }
                for s in (i + 1)..<max(i + 1, m) { row[s] = 0 }
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(D), Int32(m), 1, p, Int32(m), v, Int32(QKV),
                        0, shared.value.out + seg.firstRow * qw + h * D, Int32(qw))
            task += Parallel.workers
        }
    }
}

/// The backward of `attentionTrainForward`: dqkv (N, QKV) += gradients of q, k, v, with
/// dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ += scale·dS·K, dK += scale·dSᵀ·Q.
/// Heads sharing a KV head add into the same dK, dV, so one task per (segment, KV head).
/// scratch ≥ workers · (max segment rows)² floats.
public func attentionTrainBackward(
    dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probs: UnsafePointer<Float>, qkv: UnsafePointer<Float>, QKV: Int,
    segments: [AttentionSegment], probOffset: [Int], shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
) {
    let (NH, KVH, D) = (shape.NH, shape.KVH, shape.D)
    let group = NH / KVH, qw = NH * D, kvw = KVH * D
    let scale = 1 / Float(D).squareRoot()
    let maxRows = segments.map(\.rows).max() ?? 0
    let shared = Shared((dqkv: dqkv, dout: dout, probs: probs, qkv: qkv, scratch: scratch))
    let tasks = segments.count * KVH
    DispatchQueue.concurrentPerform(iterations: min(Parallel.workers, max(tasks, 1))) { w in
        let dp = shared.value.scratch + w * maxRows * maxRows
        var task = w
        while task < tasks {
            let seg = segments[task / KVH], kvh = task % KVH, m = seg.rows
            let base = shared.value.qkv + seg.firstRow * QKV
            let dbase = shared.value.dqkv + seg.firstRow * QKV
            let k = base + qw + kvh * D, v = base + qw + kvw + kvh * D
            let dk = dbase + qw + kvh * D, dv = dbase + qw + kvw + kvh * D
            for h in (kvh * group)..<((kvh + 1) * group) {
                let p = shared.value.probs + probOffset[task / KVH] + h * m * m
                let dO = shared.value.dout + seg.firstRow * qw + h * D
                let q = base + h * D, dq = dbase + h * D
                // dV (m, D) += Pᵀ (m, m) · dO (m, D)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(D), Int32(m), 1, p, Int32(m), dO, Int32(qw), 1, dv, Int32(QKV))
                // dP (m, m) = dO · Vᵀ
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(D), 1, dO, Int32(qw), v, Int32(QKV), 0, dp, Int32(m))
                // dS = P ⊙ (dP − Σ_s dP·P), scaled by 1/√D for both products below.
                for i in 0..<m {
                    let pr = p + i * m, dr = dp + i * m
                    var dotPP: Float = 0
                    for s in 0...i { dotPP += pr[s] * dr[s] }
                    for s in 0...i { dr[s] = pr[s] * (dr[s] - dotPP) * scale }
                    for s in (i + 1)..<max(i + 1, m) { dr[s] = 0 }
                }
                // dQ (m, D) += dS · K;  dK (m, D) += dSᵀ · Q
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(D), Int32(m), 1, dp, Int32(m), k, Int32(QKV), 1, dq, Int32(QKV))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(D), Int32(m), 1, dp, Int32(m), q, Int32(QKV), 1, dk, Int32(QKV))
            }
            task += Parallel.workers
        }
    }
}
