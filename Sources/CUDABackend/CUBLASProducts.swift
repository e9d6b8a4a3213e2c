// The linear layers' products through cuBLAS, in llmrec's row-major convention (as Kernels/Matmul):
//   forward   out (N, OC) = inp (N, C) · W (OC, C)ᵀ
//   backward  dinp (N, C) += dout (N, OC) · W;   dW (OC, C) += dout (N, OC)ᵀ · inp (N, C)
// cuBLAS is column-major: a row-major (r, c) matrix is a column-major (c, r) one, so each product
// is computed transposed (outᵀ = W · inpᵀ, and so on). fp32: CUBLAS_COMPUTE_32F with TF32 off.
// bf16: bf16 operands (rounded by the bf16_round kernel, as the CPU rounds them) with fp32
// accumulation and fp32 results.
import CCUDA

extension CUDADevice {
    public enum ProductPrecision: String, Sendable { case fp32, bf16 }

    /// C (m, n, column-major, ldc) = alpha · op(A) · op(B) + beta · C, with op(A) (m, k) and op(B) (k, n).
    /// In bf16, A and B hold bf16 bits (UInt16); C is Float32 either way.
    public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, a: UInt64, lda: Int, b: UInt64, ldb: Int,
                     c: UInt64, ldc: Int, beta: Float, precision: ProductPrecision) throws {
        guard m > 0, n > 0 else { return }
        try makeCurrent()
        let cudaR32F: Int32 = 0, cudaR16BF: Int32 = 14, compute32F: Int32 = 68, gemmDefault: Int32 = -1
        let operandType = precision == .fp32 ? cudaR32F : cudaR16BF
        var alpha = alpha, beta = beta
        let api = libraries.cublas
        let run = {
            let status = api.cublasGemmEx(
                self.cublasHandle, transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), &alpha,
                UnsafeRawPointer(bitPattern: UInt(a)), operandType, Int32(lda), UnsafeRawPointer(bitPattern: UInt(b)), operandType, Int32(ldb),
                &beta, UnsafeMutableRawPointer(bitPattern: UInt(c)), cudaR32F, Int32(ldc), compute32F, gemmDefault)
            try Self.checkBLAS(api, "cublasGemmEx(m \(m), n \(n), k \(k), \(precision))", status)
        }
        if let profile {
            try profile.time("gemm \(precision.rawValue) \(transA ? "T" : "N")\(transB ? "T" : "N") \(m)×\(n)×\(k)", device: self, run)
        } else {
            try run()
        }
    }

    /// out (N, OC) = inp (N, C) · weight (OC, C)ᵀ, overwriting `out`: outᵀ = W · inpᵀ.
    public func linear(out: UInt64, inp: UInt64, weight: UInt64, N: Int, C: Int, OC: Int, precision: ProductPrecision) throws {
        try gemm(transA: true, transB: false, m: OC, n: N, k: C, a: weight, lda: C, b: inp, ldb: C, c: out, ldc: OC, beta: 0, precision: precision)
    }

    /// dinp (N, C) += dout (N, OC) · weight (OC, C):  dinpᵀ = Wᵀ · doutᵀ.
    public func linearBackwardInput(dinp: UInt64, dout: UInt64, weight: UInt64, N: Int, C: Int, OC: Int, precision: ProductPrecision) throws {
        try gemm(transA: false, transB: false, m: C, n: N, k: OC, a: weight, lda: C, b: dout, ldb: OC, c: dinp, ldc: C, beta: 1, precision: precision)
    }

    /// dweight (OC, C) += dout (N, OC)ᵀ · inp (N, C):  dWᵀ = inpᵀ · dout.
    public func linearBackwardWeight(dweight: UInt64, dout: UInt64, inp: UInt64, N: Int, C: Int, OC: Int, precision: ProductPrecision) throws {
        try gemm(transA: false, transB: true, m: C, n: OC, k: N, a: inp, lda: C, b: dout, ldb: OC, c: dweight, ldc: C, beta: 1, precision: precision)
    }
}
