// Linear layers: out = inp · Wᵀ (+ bias), with W stored (OC, C) row-major as in PyTorch.
// The BLAS version is the fast path; the naive loop is the reference the tests hold it to.
// Legend: N = rows (batch × time), C = input channels, OC = output channels.
import COpenBLAS

/// out (N, OC) = inp (N, C) · weight (OC, C)ᵀ + bias (OC).
public func matmulForward(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
) {
    if let bias {
        for n in 0..<N { (out + n * OC).update(from: bias, count: OC) }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(OC), Int32(C),
                1, inp, Int32(C), weight, Int32(C), bias == nil ? 0 : 1, out, Int32(OC))
}

/// The reference: plain loops, accumulated in Double.
public func matmulForwardNaive(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
) {
    for n in 0..<N {
        for o in 0..<OC {
            var acc = Double(bias?[o] ?? 0)
            for c in 0..<C { acc += Double(inp[n * C + c]) * Double(weight[o * C + c]) }
            out[n * OC + o] = Float(acc)
        }
    }
}
