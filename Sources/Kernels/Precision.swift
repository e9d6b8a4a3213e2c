// The arithmetic of the model's matrix products.
//   fp32: Float32 throughout — the reference every parity test holds the model to.
//   bf16: the linear layers' weights and their inputs rounded to bfloat16 (nearest, ties to
//         even), the products accumulated in Float32; norms, RoPE, attention, softmax,
//         log-sum-exp and beam scores stay Float32 (docs/PERFORMANCE.md shows what it costs).
import CPanelKernels

public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32, bf16
}

/// x rounded to the nearest bfloat16 (ties to even), as a Float: what a bf16 product sees of x.
@inlinable public func bfloat16Rounded(_ x: Float) -> Float { llmrec_bf16_to_float(llmrec_bf16_round(x)) }
