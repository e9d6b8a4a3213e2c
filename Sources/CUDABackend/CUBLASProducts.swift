// The linear layers' products through cuBLAS, in llmrec's row-major convention (as Kernels/Matmul):
//   out (N, OC) = inp (N, C) · W (OC, C)ᵀ
// cuBLAS is column-major, so it computes outᵀ (OC, N) = W · inpᵀ: W read transposed (its rows
// are C apart), inp as is. fp32: CUBLAS_COMPUTE_32F with TF32 off. bf16: bf16 operands (rounded
// by the bf16_round kernel, as the CPU rounds them) with fp32 accumulation and fp32 output.
import CCUDA

extension CUDADevice {
    public enum ProductPrecision: Sendable { case fp32, bf16 }

    /// out (N, OC) = inp (N, C) · weight (OC, C)ᵀ, overwriting `out`.
    /// In bf16, `inp` and `weight` are device buffers of bf16 bits (UInt16); in fp32, of Float.
    public func linear(out: UInt64, inp: UInt64, weight: UInt64, N: Int, C: Int, OC: Int, precision: ProductPrecision) throws {
        let cudaR32F: Int32 = 0, cudaR16BF: Int32 = 14, compute32F: Int32 = 68, gemmDefault: Int32 = -1, opN: Int32 = 0, opT: Int32 = 1
        let operandType = precision == .fp32 ? cudaR32F : cudaR16BF
        var alpha: Float = 1, beta: Float = 0
        let b = libraries.cublas
        let status = b.cublasGemmEx(
            cublasHandle, opT, opN, Int32(OC), Int32(N), Int32(C), &alpha,
            UnsafeRawPointer(bitPattern: UInt(weight)), operandType, Int32(C),
            UnsafeRawPointer(bitPattern: UInt(inp)), operandType, Int32(C), &beta,
            UnsafeMutableRawPointer(bitPattern: UInt(out)), cudaR32F, Int32(OC), compute32F, gemmDefault)
        try Self.checkBLAS(b, "cublasGemmEx(\(N)×\(C) · \(OC)×\(C)ᵀ, \(precision))", status)
    }
}
