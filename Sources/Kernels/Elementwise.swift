// Row-wise helpers of the decoder: residual add, dot and axpy, log-sum-exp over rows, and
// zeroing large gradient buffers. RMSNorm, SwiGLU, attention and the products have files of
// their own, each with its forward and backward pass.
// Legend: N = rows, C = channels.
import Foundation

/// x += y.
public func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { x[i] += y[i] }
}

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

/// Sets `count` floats to zero, in parallel (gradient buffers are hundreds of megabytes).
public func zeroFill(_ x: UnsafeMutablePointer<Float>, count: Int) {
    let p = Shared(x)
    Parallel.chunks(count, minChunk: 1 << 18) { r in (p.value + r.lowerBound).initialize(repeating: 0, count: r.count) }
}
