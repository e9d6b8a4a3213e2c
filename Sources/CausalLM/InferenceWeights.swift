// The model's linear layers packed for the panel kernel (Kernels/PanelWeights): q|k|v, o,
// gate|up and down of every layer, and the output head. Decoding and serving build one when the
// CPU has the kernel and pass it to the forward passes. Weights loaded from Q4_1 or Q8_0 GGUF
// blocks stay in them (about 110 MB for SmolLM2-135M, and a pass reads a fifth of the bytes);
// others are copied as Float32 (about 540 MB). Either way the products are bit-identical to
// the Float32 weights'. In bf16 the products take the bf16 values of the same weights: Q4_1
// blocks stay blocks and expand to bf16 just before use in products of a few rows (a beam step
// reads 80 MB of them instead of 212 MB of bf16), beside bf16 panels of the same values for
// products of many rows; others (the Q8_0 head included) are packed as bfloat16 panels. The
// packed weights are a snapshot, built after the weights are final (never during training).
import Dispatch
import Foundation
import Kernels
import ModelFormats
import Synchronization

public final class InferenceWeights: @unchecked Sendable {
    struct Layer {
        let qkv, o, gateUp, down: PanelWeights
    }
    let layers: [Layer]
    let head: PanelWeights

    /// The products' arithmetic.
    public let precision: Precision

    /// The packed weights of `model`, or nil in fp32 when this CPU lacks the kernel (bf16 runs
    /// everywhere: `bf16Kernel` picks its kernel). `keepBlocks: false` packs every fp32 weight
    /// as Float32.
    public static func packed(_ model: DecoderModel, precision: Precision = .fp32, keepBlocks: Bool = true,
                              bf16Kernel: PanelWeights.BF16Kernel = .best) -> InferenceWeights? {
        switch precision {
        case .fp32: PanelWeights.available ? InferenceWeights(model, keepBlocks: keepBlocks, bf16: nil) : nil
        case .bf16: InferenceWeights(model, keepBlocks: keepBlocks, bf16: bf16Kernel)
        }
    }

    /// Bytes of all packed weights.
    public var bytes: Int { layers.reduce(head.bytes) { $0 + $1.qkv.bytes + $1.o.bytes + $1.gateUp.bytes + $1.down.bytes } }

    /// How many of the packed matrices kept their GGUF blocks, of how many.
    public var blockMatrices: (kept: Int, of: Int) {
        let all = layers.flatMap { [$0.qkv, $0.o, $0.gateUp, $0.down] } + [head]
        return (all.count { $0.code != nil }, all.count)
    }

    init(_ model: DecoderModel, keepBlocks: Bool, bf16: PanelWeights.BF16Kernel?) {
        let cfg = model.config
        precision = bf16 == nil ? .fp32 : .bf16
        let file = keepBlocks ? model.ggufOrigin.flatMap { try? GGUFFile(path: $0.path) } : nil
        @Sendable func pack(_ tensors: [TensorSlot]) -> PanelWeights {
            let first = tensors[0], outputs = tensors.reduce(0) { $0 + $1.shape[0] }
            if let file, let blocks = Self.blockPanels(model, tensors, file: file, bf16: bf16) {
                if bf16 != nil { blocks.attachBFloat16Panels(model.parameters.view(first)) }
                return blocks
            }
            if let bf16 { return PanelWeights(bfloat16: model.parameters.view(first), outputs: outputs, inputs: first.shape[1], kernel: bf16) }
            return PanelWeights(model.parameters.view(first), outputs: outputs, inputs: first.shape[1])
        }
        // Packing is a strided copy of every weight (0.3–0.6 s single-threaded for SmolLM2):
        // the layers and the head are packed on all workers.
        let packed = Mutex<[Int: Layer]>([:])
        let head = Mutex<PanelWeights?>(nil)
        DispatchQueue.concurrentPerform(iterations: cfg.layers + 1) { l in
            if l == cfg.layers {
                let h = pack([model.layout.globals[cfg.tieWordEmbeddings ? .embedding : .lmHead]!])
                head.withLock { $0 = h }
                return
            }
            let slots = model.layout.layers[l]
            let layer = Layer(qkv: pack([slots[.wq]!, slots[.wk]!, slots[.wv]!]), o: pack([slots[.wo]!]),
                              gateUp: pack([slots[.wGate]!, slots[.wUp]!]), down: pack([slots[.wDown]!]))
            packed.withLock { $0[l] = layer }
        }
        layers = packed.withLock { p in (0..<cfg.layers).map { p[$0]! } }
        self.head = head.withLock { $0! }
    }

    /// The weights of `tensors` (adjacent slots, stacked by rows) packed in their GGUF blocks,
    /// or nil unless all came from Q4_1 blocks or all from Q8_0 blocks and every row still
    /// dequantises to exactly the model's weights.
    static func blockPanels(_ model: DecoderModel, _ tensors: [TensorSlot], file: GGUFFile, bf16: PanelWeights.BF16Kernel? = nil) -> PanelWeights? {
        guard let origin = model.ggufOrigin else { return nil }
        let sources = tensors.compactMap { origin.sources[$0.offset] }
        guard sources.count == tensors.count, let type = sources.first?.tensor.type, sources.allSatisfy({ $0.tensor.type == type }),
            let code: PanelWeights.BlockCode = type == .q4_1 ? .q4_1 : type == .q8_0 ? .q8_0 : nil,
            // In bf16, Q8_0 (1.125 bytes a weight) saves too few bytes over bf16's 2 to pay for
            // expanding: measured on the tied head, it slowed the forward pass by a tenth.
            bf16 == nil || code == .q4_1
        else { return nil }
        let C = tensors[0].shape[1], rowBytes = C / 32 * code.sourceBlockBytes
        var rows: [UnsafeRawPointer] = []
        let dequantised = UnsafeMutablePointer<Float>.allocate(capacity: C)
        defer { dequantised.deallocate() }
        for (slot, source) in zip(tensors, sources) {
            let bytes = file.bytes(of: source.tensor)
            guard slot.shape[1] == C, let base = bytes.baseAddress, bytes.count == slot.shape[0] * rowBytes else { return nil }
            let weight = model.parameters.view(slot)
            for r in 0..<slot.shape[0] {
                let row = base + GGUFOrigin.fileRow(r, permuteHeads: source.permuteHeads, headDim: model.config.headDim) * rowBytes
                dequantize(type, UnsafeRawBufferPointer(start: row, count: rowBytes), into: dequantised, count: C)
                guard memcmp(dequantised, weight + r * C, C * MemoryLayout<Float>.stride) == 0 else { return nil }
                rows.append(row)
            }
        }
        return PanelWeights(blockRows: rows, code: code, inputs: C, bf16: bf16)
    }
}
