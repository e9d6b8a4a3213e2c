// A weight matrix re-packed once into 32-channel panels (see CPanelKernels/panel_matmul.h), for
// the products of inference. Small products (a beam step's 10 rows) run 3.3× faster than through
// sgemm, which re-packs the whole weight on every call; 150 rows about 1.3× (Zen 4,
// scripts/bench/panel_kernels.sh). A weight read from GGUF blocks (Q4_1, Q8_0) can stay in them (block_panels.h): the
// panels expand to the same Float32 values just before use, so a pass reads a fifth of the bytes
// for bit-identical products. In bf16 (Precision.bf16) the panels hold bfloat16 weights and the
// products round their inputs to bf16 and accumulate in Float32 (bf16_panels.h): AMX or
// AVX512-BF16 where the CPU has them, a portable loop elsewhere; Q4_1 blocks can stay blocks and
// expand to bf16 just before use. The packed copy is a snapshot: it does not follow later
// changes to the weight.
import CPanelKernels

public final class PanelWeights: @unchecked Sendable {
    /// Whether this CPU has the kernel (AVX-512); without it, callers keep using sgemm.
    public static let available: Bool = llmrec_panel_kernel_available() != 0

    /// GGUF block formats the panels can keep.
    public enum BlockCode: Sendable {
        case q4_1, q8_0
        /// Bytes of one GGUF block (32 values).
        public var sourceBlockBytes: Int { llmrec_block_source_bytes(c) }
        var c: llmrec_block_code { self == .q4_1 ? LLMREC_Q4_1 : LLMREC_Q8_0 }
    }

    /// Whether this CPU has AVX512-BF16.
    public static let bf16KernelAvailable: Bool = llmrec_bf16_kernel_available() != 0
    /// Whether this CPU has AMX-BF16 and this process may use it (asked once, here).
    public static let amxAvailable: Bool = llmrec_bf16_amx_available() != 0

    /// The kernels of bf16 panels (bf16_panels.h): AMX tiles, `vdpbf16ps` (AVX512-BF16), or the
    /// portable loop that computes the same products in Float32 on any CPU.
    public enum BF16Kernel: String, Sendable, CaseIterable {
        case amx, avx512bf16, portable
        /// The fastest this CPU has.
        public static var best: BF16Kernel { amxAvailable ? .amx : bf16KernelAvailable ? .avx512bf16 : .portable }
        /// Whether this CPU (and process) can run it.
        public var available: Bool {
            switch self {
            case .amx: PanelWeights.amxAvailable
            case .avx512bf16: PanelWeights.bf16KernelAvailable
            case .portable: true
            }
        }
        var c: llmrec_bf16_kernel {
            switch self {
            case .amx: LLMREC_BF16_AMX
            case .avx512bf16: LLMREC_BF16_AVX512
            case .portable: LLMREC_BF16_PORTABLE
            }
        }
    }

    public let outputs: Int
    public let inputs: Int
    /// The GGUF blocks the panels keep, or nil for Float32 or bf16 panels.
    public let code: BlockCode?
    /// The kernel of bf16 panels, or nil for Float32 panels and blocks.
    public let bf16: BF16Kernel?
    /// Size of the packed copy (and of `manyRows`, when attached).
    public var bytes: Int { ownBytes + (manyRows?.bytes ?? 0) }
    private let ownBytes: Int
    /// For bf16 products on blocks: bf16 panels of the same values, for products of more than
    /// `manyRowsThreshold` rows, where expanding each panel per block of rows costs more than
    /// reading 2 bytes a weight. The products are the same bits either way (the same values,
    /// summed in the same order), so a row's result still does not depend on its batch.
    public private(set) var manyRows: PanelWeights?
    public static let manyRowsThreshold = 32
    private let storage: UnsafeMutableRawPointer

    /// The fields, and `bytes` of storage for a packing to fill.
    private init(outputs: Int, inputs: Int, code: BlockCode?, bf16: BF16Kernel?, bytes: Int) {
        self.outputs = outputs
        self.inputs = inputs
        self.code = code
        self.bf16 = bf16
        ownBytes = bytes
        storage = .allocate(byteCount: bytes, alignment: 64)
    }

    /// Packs weight (outputs, inputs), row-major.
    public convenience init(_ weight: UnsafePointer<Float>, outputs: Int, inputs: Int) {
        self.init(outputs: outputs, inputs: inputs, code: nil, bf16: nil,
                  bytes: llmrec_panel_floats(outputs, inputs) * MemoryLayout<Float>.stride)
        llmrec_pack_panels(storage.assumingMemoryBound(to: Float.self), weight, outputs, inputs)
    }

    /// Packs a weight given as GGUF blocks: `rows[o]` points at output row o's inputs/32 blocks.
    /// `inputs` must be a multiple of 32. With `bf16`, the products run in bf16 with that kernel,
    /// each panel expanded to the bf16 values of the dequantised weight just before its use: the
    /// products of bf16 panels packed from those weights, reading the blocks' bytes.
    public convenience init(blockRows rows: [UnsafeRawPointer], code: BlockCode, inputs: Int, bf16: BF16Kernel? = nil) {
        precondition(inputs % 32 == 0, "GGUF blocks hold 32 input channels")
        precondition(bf16?.available ?? true, "this CPU cannot run the \(bf16!) bf16 kernel")
        self.init(outputs: rows.count, inputs: inputs, code: code, bf16: bf16, bytes: llmrec_block_panels_bytes(code.c, rows.count, inputs))
        rows.map { Optional($0.assumingMemoryBound(to: UInt8.self)) }.withUnsafeBufferPointer {
            llmrec_pack_block_panels(storage.assumingMemoryBound(to: UInt8.self), code.c, $0.baseAddress!, outputs, inputs)
        }
    }

    /// Packs weight (outputs, inputs), row-major, rounding each value to bf16, for `kernel`
    /// (which this CPU must be able to run).
    public convenience init(bfloat16 weight: UnsafePointer<Float>, outputs: Int, inputs: Int, kernel: BF16Kernel = .best) {
        precondition(kernel.available, "this CPU cannot run the \(kernel) bf16 kernel")
        self.init(outputs: outputs, inputs: inputs, code: nil, bf16: kernel,
                  bytes: llmrec_bf16_panel_values(outputs, inputs) * MemoryLayout<UInt16>.stride)
        llmrec_pack_bf16_panels(storage.assumingMemoryBound(to: UInt16.self), weight, outputs, inputs)
    }

    /// Attaches `manyRows` to bf16 products on blocks: `weight` must be the dequantised weight
    /// the blocks hold (outputs, inputs), row-major. Call once, while packing.
    public func attachBFloat16Panels(_ weight: UnsafePointer<Float>) {
        guard let bf16, code != nil else { preconditionFailure("only bf16 products on blocks take bf16 panels") }
        manyRows = PanelWeights(bfloat16: weight, outputs: outputs, inputs: inputs, kernel: bf16)
    }

    deinit { storage.deallocate() }

    /// out (N, outputs) = inp (N, inputs) · Wᵀ (+ bias), split across workers by panels.
    /// bf16 panels round the inputs to bf16 first.
    public func multiply(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, bias: UnsafePointer<Float>?, rows N: Int) {
        precondition(Self.available || bf16 == .portable, "the panel kernel needs AVX-512")
        guard N > 0 else { return }
        if let manyRows, N > Self.manyRowsThreshold { return manyRows.multiply(out, inp, bias: bias, rows: N) }
        let count = (outputs + Int(LLMREC_PANEL_WIDTH) - 1) / Int(LLMREC_PANEL_WIDTH)
        let p = Shared((out: out, inp: inp, bias: bias, storage: UnsafeRawPointer(storage)))
        let (C, OC, code, bf16) = (inputs, outputs, code, bf16)
        // Small products stay on one thread: a hand-off costs more than they take.
        Parallel.chunks(count, minChunk: N * C * OC < 1 << 16 ? count : 1) { r in
            let (out, inp, bias, storage) = p.value
            if let bf16, let code {
                llmrec_bf16_block_panel_matmul(out, inp, storage.assumingMemoryBound(to: UInt8.self), code.c, bias, N, C, OC, r.lowerBound, r.upperBound, bf16.c)
            } else if let bf16 {
                llmrec_bf16_panel_matmul(out, inp, storage.assumingMemoryBound(to: UInt16.self), bias, N, C, OC, r.lowerBound, r.upperBound, bf16.c)
            } else if let code {
                llmrec_block_panel_matmul(out, inp, storage.assumingMemoryBound(to: UInt8.self), code.c, bias, N, C, OC, r.lowerBound, r.upperBound)
            } else {
                llmrec_panel_matmul(out, inp, storage.assumingMemoryBound(to: Float.self), bias, N, C, OC, r.lowerBound, r.upperBound)
            }
        }
    }

    /// The weight as the products see it, (outputs, inputs) row-major: for tests.
    public func unpacked() -> [Float] {
        if bf16 != nil, let code { return unpackedBlocksAsBFloat16(code) }
        if bf16 != nil { return unpackedBFloat16() }
        precondition(Self.available, "the panel kernel needs AVX-512")
        let W = Int(LLMREC_PANEL_WIDTH), floats = llmrec_panel_floats(outputs, inputs)
        var panels = [Float](repeating: 0, count: floats)
        if let code {
            panels.withUnsafeMutableBufferPointer {
                llmrec_unpack_block_panels($0.baseAddress!, storage.assumingMemoryBound(to: UInt8.self), code.c, outputs, inputs)
            }
        } else {
            panels.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: storage.assumingMemoryBound(to: Float.self), count: floats) }
        }
        var w = [Float](repeating: 0, count: outputs * inputs)
        for o in 0..<outputs {
            for c in 0..<inputs { w[o * inputs + c] = panels[(o / W) * inputs * W + c * W + o % W] }
        }
        return w
    }

    /// Each panel expanded to bf16 as the products expand it.
    private func unpackedBlocksAsBFloat16(_ code: BlockCode) -> [Float] {
        let W = Int(LLMREC_PANEL_WIDTH), pairs = inputs / 2, panelBytes = llmrec_block_panel_bytes(code.c, inputs)
        var panel = [UInt16](repeating: 0, count: pairs * 2 * W)
        var w = [Float](repeating: 0, count: outputs * inputs)
        for p in 0..<(outputs + W - 1) / W {
            llmrec_expand_block_panel_bf16(&panel, storage.assumingMemoryBound(to: UInt8.self) + p * panelBytes, code.c, inputs,
                                           bf16 == .portable ? 0 : 1)
            for o in p * W..<min(outputs, (p + 1) * W) {
                let lane = (o % W / 16) * W + (o % 16) * 2
                for c in 0..<inputs { w[o * inputs + c] = llmrec_bf16_to_float(panel[(c / 2) * 2 * W + lane + c % 2]) }
            }
        }
        return w
    }

    private func unpackedBFloat16() -> [Float] {
        let W = Int(LLMREC_PANEL_WIDTH), pairs = llmrec_bf16_panel_pairs(inputs)
        let panels = storage.assumingMemoryBound(to: UInt16.self)
        var w = [Float](repeating: 0, count: outputs * inputs)
        for o in 0..<outputs {
            let panel = panels + (o / W) * pairs * 2 * W, lane = (o % W / 16) * W + (o % 16) * 2
            for c in 0..<inputs { w[o * inputs + c] = llmrec_bf16_to_float(panel[(c / 2) * 2 * W + lane + c % 2]) }
        }
        return w
    }
}
