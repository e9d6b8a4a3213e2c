// RMSNorm, forward and backward (as llm.c keeps each layer's pair together):
//   out (N, C) = inp / sqrt(mean(inp²) + eps) · weight (C)
// The backward pass *adds* into the gradients of its input and weight.
// Legend: N = rows, C = channels.
import Foundation

/// out (N, C) = inp / sqrt(mean(inp²) + eps) · weight (C).
public func rmsNormForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           N: Int, C: Int, eps: Float) {
    rmsNormRows(out, rstd: nil, inp, weight, N: N, C: C, eps: eps)
}

/// The same, also saving rstd (N) = 1 / sqrt(mean(inp²) + eps) for the backward pass.
public func rmsNormForward(_ out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                           _ weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float) {
    rmsNormRows(out, rstd: rstd, inp, weight, N: N, C: C, eps: eps)
}

private func rmsNormRows(_ out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>?, _ inp: UnsafePointer<Float>,
                         _ weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float) {
    let p = Shared((out: out, rstd: rstd, inp: inp, weight: weight))
    Parallel.chunks(N, minChunk: 16) { rows in
        let (out, rstd, inp, weight) = p.value
        for n in rows {
            let x = inp + n * C, y = out + n * C
            let scale = 1 / (dot(x, x, C) / Float(C) + eps).squareRoot()
            rstd?[n] = scale
            for c in 0..<C { y[c] = x[c] * scale * weight[c] }
        }
    }
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
    let p = Shared((dinp: dinp, dout: dout, inp: inp, weight: weight, rstd: rstd, partial: partial))
    Parallel.perform(chunks) { k in
        let v = p.value
        let dw = v.partial + k * C
        for n in Parallel.share(k, of: chunks, N) {
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
