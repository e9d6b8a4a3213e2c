// Row-wise kernels of the decoder: RMSNorm, SwiGLU, residual add, softmax.
// Legend: N = rows, C = channels, H = hidden (MLP) channels.
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

/// out (N, H) = silu(gate) · up, silu(x) = x · σ(x), from gateUp (N, 2H) = [gate | up] per row.
public func swigluForward(_ out: UnsafeMutablePointer<Float>, _ gateUp: UnsafePointer<Float>, rows N: Int, H: Int) {
    let p = Shared((out: out, gateUp: gateUp))
    Parallel.chunks(N, minChunk: 4) { rows in
        let (out, gateUp) = p.value
        for r in rows {
            let g = gateUp + r * 2 * H, u = g + H, o = out + r * H
            let rg = UnsafeRawPointer(g), ru = UnsafeRawPointer(u), ro = UnsafeMutableRawPointer(o)
            var i = 0
            while i + 8 <= H {
                let gv = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let uv = ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                ro.storeBytes(of: gv / (1 + exp8(-gv)) * uv, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < H { o[i] = g[i] / (1 + expf(-g[i])) * u[i]; i += 1 }
        }
    }
}

/// x += y.
public func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { x[i] += y[i] }
}

/// Σ a·b with eight independent accumulators so the loop vectorises.
@inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= n {
        acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// y += alpha · x.
@inline(__always)
public func axpy(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    let a = SIMD8<Float>(repeating: alpha)
    let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
    while i + 8 <= n {
        let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + a * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += alpha * x[i]; i += 1 }
}

/// log Σ exp(x), stable.
public func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m8 = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= n { m8 = pointwiseMax(m8, UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)); i += 8 }
    var m = m8.max()
    for k in i..<n { m = max(m, x[k]) }
    guard m.isFinite else { return m }
    // Eight partial sums of e^(x − m) ≤ 1 each: float is exact enough (relative error ~1e-6 at
    // 50k terms), and the vector exp is 2 ulp.
    var s8 = SIMD8<Float>()
    let m8s = SIMD8<Float>(repeating: m)
    i = 0
    while i + 8 <= n { s8 += exp8(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - m8s); i += 8 }
    var s = Double(s8.sum())
    for k in i..<n { s += Double(expf(x[k] - m)) }
    return m + Float(log(s))
}

/// logSumExp of each of `rows` rows of width n, in parallel.
public func logSumExpRows(_ x: UnsafePointer<Float>, rows: Int, _ n: Int) -> [Float] {
    var out = [Float](repeating: 0, count: rows)
    out.withUnsafeMutableBufferPointer { o in
        let p = Shared((out: o.baseAddress!, x: x))
        Parallel.chunks(rows, minChunk: max(1, 1 << 15 / max(n, 1))) { r in
            for row in r { p.value.out[row] = logSumExp(p.value.x + row * n, n) }
        }
    }
    return out
}
