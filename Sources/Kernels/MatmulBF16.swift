// The linear layers of training in bf16 mixed precision, as PyTorch's autocast runs them: the
// three products of a layer — out = X·Wᵀ, dX = dY·W, dW = dYᵀ·X — take bf16 operands (the Float32
// master weights and the activations rounded to bf16 as each product reads them) and sum in
// Float32; the bias, its gradient and everything outside the products stay Float32. Each call
// packs its right-hand operand into bf16 panels (bf16_panels.h), so the weights used are always
// the current master weights rounded: the bf16 copy is refreshed after every optimiser step by
// construction. Same signatures and semantics as matmulForward / matmulBackward (Matmul.swift).
import CPanelKernels

/// out (N, OC) = bf16(inp) (N, C) · bf16(weight) (OC, C)ᵀ + bias (OC), Float32 sums.
public func matmulForwardBF16(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int, kernel: PanelWeights.BF16Kernel = .best
) {
    // Element (o, c) of the packed side is weight[o·C + c].
    bf16Product(out, ldo: OC, accumulate: false, a: inp, aRow: C, aCol: 1, b: weight, bRow: C, bCol: 1, M: N, N: OC, K: C, kernel: kernel)
    if let bias { for n in 0..<N { addInPlace(out + n * OC, bias, count: OC) } }
}

/// For out = inp · Wᵀ + b:  dinp (N, C) += dout · W;  dW (OC, C) += doutᵀ · inp;  db (OC) += Σ_n dout,
/// the products in bf16 with Float32 sums, db in Float32. `dweight` nil skips the weight gradient.
public func matmulBackwardBF16(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int,
    kernel: PanelWeights.BF16Kernel = .best
) {
    if let dinp {
        // dinp (N, C) += dout (N, OC) · W: element (c, o) of the packed side is weight[o·C + c].
        bf16Product(dinp, ldo: C, accumulate: true, a: dout, aRow: OC, aCol: 1, b: weight, bRow: 1, bCol: C, M: N, N: C, K: OC, kernel: kernel)
    }
    if let dweight {
        // dW (OC, C) += doutᵀ (OC, N) · inp (N, C): row o of the left side is column o of dout,
        // element (c, n) of the packed side is inp[n·C + c].
        bf16Product(dweight, ldo: C, accumulate: true, a: dout, aRow: 1, aCol: OC, b: inp, bRow: 1, bCol: C, M: OC, N: C, K: N, kernel: kernel)
    }
    if let dbias {
        for n in 0..<N { addInPlace(dbias, dout + n * OC, count: OC) }
    }
}

/// out (M, N) (+)= op(a) (M, K) · op(b) (N, K)ᵀ. Split across workers by rows of out when it has
/// more rows than columns (each worker then packs all of the smaller op(b) and rounds only its
/// rows of op(a)), else by 32-column panels (each packs its panels and rounds all of op(a)).
private func bf16Product(
    _ out: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool, a: UnsafePointer<Float>, aRow: Int, aCol: Int,
    b: UnsafePointer<Float>, bRow: Int, bCol: Int, M: Int, N: Int, K: Int, kernel: PanelWeights.BF16Kernel
) {
    guard M > 0, N > 0 else { return }
    guard K > 0 else {
        if !accumulate { for m in 0..<M { (out + m * ldo).initialize(repeating: 0, count: N) } }
        return
    }
    let panels = (N + Int(LLMREC_PANEL_WIDTH) - 1) / Int(LLMREC_PANEL_WIDTH)
    let p = Shared((out: out, a: a, b: b))
    // Small products stay on one thread: a hand-off costs more than they take.
    let small = M * N * K < 1 << 18
    if M > N {
        Parallel.chunks(M, minChunk: small ? M : 32, align: 32) { r in
            let (out, a, b) = p.value
            llmrec_bf16_gemm(out + r.lowerBound * ldo, ldo, accumulate ? 1 : 0, a + r.lowerBound * aRow, aRow, aCol, b, bRow, bCol,
                             r.count, N, K, 0, panels, kernel.c)
        }
    } else {
        Parallel.chunks(panels, minChunk: small ? panels : 1) { r in
            let (out, a, b) = p.value
            llmrec_bf16_gemm(out, ldo, accumulate ? 1 : 0, a, aRow, aCol, b, bRow, bCol, M, N, K, r.lowerBound, r.upperBound, kernel.c)
        }
    }
}
