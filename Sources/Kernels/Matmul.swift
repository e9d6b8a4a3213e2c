// Linear layers, forward and backward: out = inp · Wᵀ (+ bias), with W stored (OC, C) row-major
// as in PyTorch; the backward pass *adds* into dinp, dW and db (dW skipped for frozen weights).
// The BLAS version is the fast path; the naive loop is the reference the tests hold it to.
// Legend: N = rows (batch × time), C = input channels, OC = output channels.
import COpenBLAS

/// out (N, OC) = inp (N, C) · weight (OC, C)ᵀ + bias (OC).
/// Split across workers by output channels, so each packs only its own rows of the weight.
public func matmulForward(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
) {
    let p = Shared((out: out, inp: inp, weight: weight, bias: bias))
    // Chunks of at least 64 channels (multiples of 16 keep the kernel's vector tiles whole),
    // and only when the product is large enough to pay for a thread hand-off.
    let minChunk = N * C * OC < 1 << 18 ? OC : 64
    Parallel.chunks(OC, minChunk: minChunk, align: 16) { r in
        let (out, inp, weight, bias) = p.value
        let width = r.count
        if let bias {
            for n in 0..<N { (out + n * OC + r.lowerBound).update(from: bias + r.lowerBound, count: width) }
        }
        if N <= gemvRows {
            // A few rows: matrix–vector products read W once; sgemm would first copy (pack) all of
            // W on every call, which was 60% of single-token decoding (perf).
            for n in 0..<N {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(width), Int32(C), 1, weight + r.lowerBound * C, Int32(C),
                            inp + n * C, 1, bias == nil ? 0 : 1, out + n * OC + r.lowerBound, 1)
            }
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(width), Int32(C),
                        1, inp, Int32(C), weight + r.lowerBound * C, Int32(C), bias == nil ? 0 : 1,
                        out + r.lowerBound, Int32(OC))
        }
    }
}

/// Up to this many rows, products run as matrix–vector products.
let gemvRows = 2

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
