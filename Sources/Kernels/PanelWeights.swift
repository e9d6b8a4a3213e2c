// A weight matrix re-packed once into 32-channel panels (see CPanelKernels/panel_matmul.h), for
// the products of inference. Small products (a beam step's 10 rows) run 3–4× faster than through
// sgemm, which re-packs the whole weight on every call; large ones about 20% faster (measured on
// Zen 4). The packed copy is a snapshot: it does not follow later changes to the weight.
import CPanelKernels

public final class PanelWeights: @unchecked Sendable {
    /// Whether this CPU has the kernel (AVX-512); without it, callers keep using sgemm.
    public static let available: Bool = llmrec_panel_kernel_available() != 0

    public let outputs: Int
    public let inputs: Int
    private let panels: UnsafeMutablePointer<Float>

    /// Packs weight (outputs, inputs), row-major.
    public init(_ weight: UnsafePointer<Float>, outputs: Int, inputs: Int) {
        self.outputs = outputs
        self.inputs = inputs
        panels = .allocate(capacity: llmrec_panel_floats(outputs, inputs))
        llmrec_pack_panels(panels, weight, outputs, inputs)
    }

    deinit { panels.deallocate() }

    /// out (N, outputs) = inp (N, inputs) · Wᵀ (+ bias), split across workers by panels.
    public func multiply(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, bias: UnsafePointer<Float>?, rows N: Int) {
        precondition(Self.available, "the panel kernel needs AVX-512")
        guard N > 0 else { return }
        let count = (outputs + Int(LLMREC_PANEL_WIDTH) - 1) / Int(LLMREC_PANEL_WIDTH)
        let p = Shared((out: out, inp: inp, bias: bias, panels: UnsafePointer(panels)))
        let (C, OC) = (inputs, outputs)
        // Small products stay on one thread: a hand-off costs more than they take.
        Parallel.chunks(count, minChunk: N * C * OC < 1 << 16 ? count : 1) { r in
            let (out, inp, bias, panels) = p.value
            llmrec_panel_matmul(out, inp, panels, bias, N, C, OC, r.lowerBound, r.upperBound)
        }
    }
}
