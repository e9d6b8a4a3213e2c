// The model's linear layers packed for the panel kernel (Kernels/PanelWeights): q|k|v, o,
// gate|up and down of every layer, and the output head. Decoding and serving build one when the
// CPU has the kernel and pass it to the forward passes; it costs a second copy of those weights
// (about 540 MB for SmolLM2-135M) and is a snapshot, so it is built after the weights are final
// (never during training).
import Dispatch
import Kernels
import Synchronization

public final class InferenceWeights: @unchecked Sendable {
    struct Layer {
        let qkv, o, gateUp, down: PanelWeights
    }
    let layers: [Layer]
    let head: PanelWeights

    /// The packed weights of `model`, or nil when this CPU lacks the kernel.
    public static func packed(_ model: DecoderModel) -> InferenceWeights? {
        PanelWeights.available ? InferenceWeights(model) : nil
    }

    init(_ model: DecoderModel) {
        let cfg = model.config
        let (C, H) = (cfg.hiddenSize, cfg.intermediateSize)
        let qw = cfg.heads * cfg.headDim, QKV = qw + 2 * cfg.kvHeads * cfg.headDim
        // Packing is a strided copy of every weight (0.3–0.6 s single-threaded for SmolLM2):
        // the layers and the head are packed on all workers.
        let packed = Mutex<[Int: Layer]>([:])
        let head = Mutex<PanelWeights?>(nil)
        DispatchQueue.concurrentPerform(iterations: cfg.layers + 1) { l in
            if l == cfg.layers {
                let h = PanelWeights(model.outputHead, outputs: cfg.vocabSize, inputs: C)
                head.withLock { $0 = h }
                return
            }
            let layer = Layer(qkv: PanelWeights(model.w(.wq, l), outputs: QKV, inputs: C),
                              o: PanelWeights(model.w(.wo, l), outputs: C, inputs: qw),
                              gateUp: PanelWeights(model.w(.wGate, l), outputs: 2 * H, inputs: C),
                              down: PanelWeights(model.w(.wDown, l), outputs: C, inputs: H))
            packed.withLock { $0[l] = layer }
        }
        layers = packed.withLock { p in (0..<cfg.layers).map { p[$0]! } }
        self.head = head.withLock { $0! }
    }
}
