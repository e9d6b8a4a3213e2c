// The two kernels LoRA adds to a linear layer: a low-rank product added into the layer's output,
// out += s · (inp · Aᵀ) · Bᵀ with A (r, C) and B (OC, r), and inverted dropout on its input.
// The output may be a column block of a wider buffer (the fused q|k|v or gate|up products), so
// it has its own leading dimension `ldOut`. Legend: N rows, C inputs, OC outputs, r the rank.
import COpenBLAS

/// out (N rows of stride ldOut) += scale · u · Bᵀ, where u = inp · Aᵀ (N, r) is kept for the backward pass.
public func lowRankForward(
    _ out: UnsafeMutablePointer<Float>, ldOut: Int, u: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, scale: Float, N: Int, C: Int, OC: Int, rank r: Int
) {
    let p = Shared((out: out, u: u, inp: inp, a: a, b: b))
    Parallel.chunks(N, minChunk: 32) { rows in
        let v = p.value, lo = rows.lowerBound, n = Int32(rows.count)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, Int32(r), Int32(C), 1, v.inp + lo * C, Int32(C), v.a, Int32(C),
                    0, v.u + lo * r, Int32(r))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, Int32(OC), Int32(r), scale, v.u + lo * r, Int32(r), v.b, Int32(r),
                    1, v.out + lo * ldOut, Int32(ldOut))
    }
}

/// The gradients of `lowRankForward`, added: with u = inp · Aᵀ and du = scale · dout · B (both
/// (N, r), recomputed into the scratch `u` and `du` — cheaper than keeping u for every layer),
///   dA (r, C) += duᵀ · inp;   dB (OC, r) += scale · doutᵀ · u;   dinp (N, C) += du · A.
public func lowRankBackward(
    dinp: UnsafeMutablePointer<Float>?, da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
    u: UnsafeMutablePointer<Float>, du: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, ldDout: Int, inp: UnsafePointer<Float>,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, scale: Float, N: Int, C: Int, OC: Int, rank r: Int
) {
    let p = Shared((dinp: dinp, da: da, db: db, u: u, du: du, dout: dout, inp: inp, a: a, b: b))
    let (ri, ci, oci, ld) = (Int32(r), Int32(C), Int32(OC), Int32(ldDout))
    // u, du and dinp split by rows; dA by input columns and dB by output rows (sums over all rows).
    Parallel.chunks(N, minChunk: 32) { rows in
        let v = p.value, lo = rows.lowerBound, n = Int32(rows.count)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, ri, ci, 1, v.inp + lo * C, ci, v.a, ci, 0, v.u + lo * r, ri)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, ri, oci, scale, v.dout + lo * ldDout, ld, v.b, ri, 0, v.du + lo * r, ri)
        if let dinp = v.dinp {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, ci, ri, 1, v.du + lo * r, ri, v.a, ci, 1, dinp + lo * C, ci)
        }
    }
    Parallel.chunks(OC, minChunk: 64) { outs in
        let v = p.value, lo = outs.lowerBound
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outs.count), ri, Int32(N), scale, v.dout + lo, ld, v.u, ri,
                    1, v.db + lo * r, ri)
    }
    Parallel.chunks(C, minChunk: 64) { cols in
        let v = p.value, lo = cols.lowerBound
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ri, Int32(cols.count), Int32(N), 1, v.du, ri, v.inp + lo, ci,
                    1, v.da + lo, ci)
    }
}

/// Inverted dropout: out = x · keep / (1 − p), each element kept with probability 1 − p.
/// The mask is a pure function of (seed, row, column), so the backward pass (and a recomputed
/// forward) regenerates it instead of storing it, and it does not depend on the thread count.
public func dropoutForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows N: Int, C: Int, p: Float, seed: UInt64) {
    dropoutRows(out, x, rows: N, C: C, p: p, seed: seed, accumulate: false)
}

/// dx += dout · keep / (1 − p), with the mask `dropoutForward` drew for the same seed.
public func dropoutBackward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, rows N: Int, C: Int, p: Float, seed: UInt64) {
    dropoutRows(dx, dout, rows: N, C: C, p: p, seed: seed, accumulate: true)
}

private func dropoutRows(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows N: Int, C: Int, p: Float, seed: UInt64, accumulate: Bool) {
    // An element is dropped when the top 24 bits of its random word fall below p · 2²⁴.
    let threshold = UInt64((Double(p) * 16_777_216).rounded())
    let keepScale = 1 / (1 - p)
    let ptrs = Shared((out: out, x: x))
    Parallel.chunks(N, minChunk: 16) { rows in
        let (out, x) = ptrs.value
        for n in rows {
            var state = seed ^ (UInt64(n) &* 0xD1B5_4A32_D192_ED03)
            for c in 0..<C {
                // SplitMix64, one word per element.
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                let v = (z >> 40) < threshold ? 0 : x[n * C + c] * keepScale
                if accumulate { out[n * C + c] += v } else { out[n * C + c] = v }
            }
        }
    }
}

/// W (OC, C) += scale · B (OC, r) · A (r, C): folds a low-rank update into the weight.
public func lowRankMerge(_ w: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, scale: Float, C: Int, OC: Int, rank r: Int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(OC), Int32(C), Int32(r), scale, b, Int32(r), a, Int32(C), 1, w, Int32(C))
}
