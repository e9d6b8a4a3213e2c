// The CUDA backend's kernels against the CPU backend's, on random inputs of awkward sizes (rows
// and widths that are not multiples of the block or warp size). Outputs are poisoned with NaN
// before each launch, so an element a kernel leaves unwritten fails the check. Errors are
// ‖gpu − cpu‖ / ‖cpu‖ over the whole output; bf16 rounding must match bit for bit.
import CPanelKernels
import CUDABackend
import CUDAModel
import Foundation
import Kernels
import Support
import Training

public struct KernelCheckResult: Sendable {
    public let kernel: String
    public let shape: String
    public let relativeError: Double
    public let tolerance: Double
    /// Outputs still holding the NaN poison (never written), or NaN where the CPU has none.
    public let unwritten: Int
    public var passed: Bool { unwritten == 0 && relativeError <= tolerance }
}

public struct KernelChecks {
    let device: CUDADevice
    var random: SeededGenerator
    public internal(set) var results: [KernelCheckResult] = []

    public init(device: CUDADevice, seed: UInt64 = 2026) {
        self.device = device
        random = SeededGenerator(seed: seed)
    }

    /// fp32 kernels: a different summation order than the CPU's, nothing more.
    static let fp32Tolerance = 1e-5
    static let poison: UInt32 = 0x7FC0_0000

    mutating func values(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in Float.random(in: -scale...scale, using: &random) }
    }

    mutating func record(_ kernel: String, _ shape: String, gpu: [Float], cpu: [Float], tolerance: Double = fp32Tolerance) {
        precondition(gpu.count == cpu.count)
        var diff = 0.0, norm = 0.0, unwritten = 0
        for (g, c) in zip(gpu, cpu) {
            if g.isNaN != c.isNaN { unwritten += 1; continue }
            if g.isNaN { continue }
            diff += Double(g - c) * Double(g - c)
            norm += Double(c) * Double(c)
        }
        let relative = norm > 0 ? (diff / norm).squareRoot() : diff.squareRoot()
        results.append(KernelCheckResult(kernel: kernel, shape: shape, relativeError: relative, tolerance: tolerance, unwritten: unwritten))
    }

    /// Runs every check; each kernel at two awkward sizes.
    public mutating func runAll() throws {
        for (N, C) in [(7, 576), (33, 1000)] { try rmsNorm(N: N, C: C) }
        for (rows, C) in [(5, 576), (70, 333)] { try embed(rows: rows, C: C) }
        for (rows, heads, D) in [(9, 12, 64), (31, 3, 40)] { try rope(rows: rows, heads: heads, D: D) }
        for (R, S, NH, KVH, D) in [(6, 50, 9, 3, 64), (37, 200, 4, 4, 24)] { try attention(R: R, S: S, NH: NH, KVH: KVH, D: D) }
        for (N, H) in [(7, 1536), (19, 333)] { try swiglu(N: N, H: H) }
        for (N, OC) in [(5, 1000), (33, 77)] { try addBias(N: N, OC: OC) }
        try addInPlace(n: 100_003)
        for (rows, n) in [(3, 49_152), (17, 1001)] { try logSumExp(rows: rows, n: n) }
        try bf16Round(n: 65_537)
        try adamW(n: 300_007)
        for (N, C, OC) in [(8, 576, 1728), (37, 200, 333)] {
            try linear(N: N, C: C, OC: OC, precision: .fp32)
            try linear(N: N, C: C, OC: OC, precision: .bf16)
        }
        try runTrainingChecks()
        try device.synchronize()
    }

    mutating func rmsNorm(N: Int, C: Int) throws {
        let x = values(N * C, scale: 3), w = values(C)
        var cpu = [Float](repeating: 0, count: N * C), cpuRstd = [Float](repeating: 0, count: N)
        rmsNormForward(&cpu, rstd: &cpuRstd, x, w, N: N, C: C, eps: 1e-5)
        let dx = try device.upload(x), dw = try device.upload(w)
        let out = try device.allocate(Float.self, count: N * C), rstd = try device.allocate(Float.self, count: N)
        try out.fill(bits: Self.poison)
        try rstd.fill(bits: Self.poison)
        try device.launch("rmsnorm_forward", grid: (N, 1), block: 256,
                          [out.argument, rstd.argument, dx.argument, dw.argument, .int32(Int32(N)), .int32(Int32(C)), .float(1e-5)])
        record("rmsnorm_forward", "\(N)×\(C)", gpu: try out.download(), cpu: cpu)
        record("rmsnorm_forward (rstd)", "\(N)", gpu: try rstd.download(), cpu: cpuRstd)
    }

    mutating func embed(rows: Int, C: Int) throws {
        let V = 1_000
        let table = values(V * C)
        let tokens = (0..<rows).map { _ in Int32(random.below(V)) }
        var cpu: [Float] = []
        for t in tokens { cpu += table[Int(t) * C..<(Int(t) + 1) * C] }
        let dt = try device.upload(table), dk = try device.upload(tokens)
        let out = try device.allocate(Float.self, count: rows * C)
        try out.fill(bits: Self.poison)
        try device.launch("embed_rows", grid: (rows, 1), block: 128, [out.argument, dt.argument, dk.argument, .int32(Int32(rows)), .int32(Int32(C))])
        record("embed_rows", "\(rows)×\(C)", gpu: try out.download(), cpu: cpu, tolerance: 0)
    }

    mutating func rope(rows: Int, heads: Int, D: Int) throws {
        let maxPositions = 300
        let table = RoPETable(headDim: D, theta: 10_000, maxPositions: maxPositions)
        let stride = heads * D + 7  // rows wider than the rotated heads, as in a fused qkv buffer
        let x = values(rows * stride)
        let positions = (0..<rows).map { _ in Int32(random.below(maxPositions)) }
        for sign: Float in [1, -1] {
            var cpu = x
            cpu.withUnsafeMutableBufferPointer { b in
                for r in 0..<rows {
                    if sign > 0 { table.apply(b.baseAddress! + r * stride, heads: heads, pos: Int(positions[r])) } else { table.applyInverse(b.baseAddress! + r * stride, heads: heads, pos: Int(positions[r])) }
                }
            }
            let dx = try device.upload(x), dc = try device.upload(table.cosines), ds = try device.upload(table.sines), dp = try device.upload(positions)
            try device.launch("rope_rows", grid: (device.strideGrid(rows * heads * D / 2), 1), block: 256,
                              [dx.argument, .int32(Int32(stride)), dc.argument, ds.argument, dp.argument, .int32(Int32(rows)),
                               .int32(Int32(heads)), .int32(Int32(D)), .float(sign)])
            record(sign > 0 ? "rope_rows" : "rope_rows (inverse)", "\(rows)×\(heads)×\(D)", gpu: try dx.download(), cpu: cpu)
        }
    }

    /// store_kv writes each row's keys and values into the caches; attention_rows reads them back.
    mutating func attention(R: Int, S: Int, NH: Int, KVH: Int, D: Int) throws {
        let slots = 3, kvw = KVH * D, qw = NH * D, QKV = qw + 2 * kvw
        var kCache = values(slots * S * kvw), vCache = values(slots * S * kvw)
        let qkv = values(R * QKV)
        // Distinct (slot, position) per row, so that the stored rows do not overwrite each other.
        var taken = Set<Int>()
        var rows: [QueryRow] = []
        while rows.count < R {
            let slot = random.below(slots), position = random.below(S)
            if taken.insert(slot * S + position).inserted { rows.append(QueryRow(slot: slot, position: position)) }
        }
        for (r, row) in rows.enumerated() {
            let at = (Int(row.slot) * S + Int(row.position)) * kvw
            for c in 0..<kvw {
                kCache[at + c] = qkv[r * QKV + qw + c]
                vCache[at + c] = qkv[r * QKV + qw + kvw + c]
            }
        }
        let q = (0..<R).flatMap { qkv[$0 * QKV..<$0 * QKV + qw] }
        var cpu = [Float](repeating: 0, count: R * qw)
        var scratch = [Float](repeating: 0, count: Parallel.workers * S)
        attentionForwardNaive(&cpu, q, kCache, vCache, rows: rows, R: R, S: S, shape: AttentionShape(NH: NH, KVH: KVH, D: D), scratch: &scratch)

        // The GPU caches start from the CPU caches with the stored rows poisoned: store_kv must write them.
        var kBefore = kCache, vBefore = vCache
        for row in rows {
            let at = (Int(row.slot) * S + Int(row.position)) * kvw
            for c in 0..<kvw { kBefore[at + c] = .nan; vBefore[at + c] = .nan }
        }
        let dk = try device.upload(kBefore), dv = try device.upload(vBefore)
        let dqkv = try device.upload(qkv)
        let dslots = try device.upload(rows.map(\.slot)), dpos = try device.upload(rows.map(\.position))
        try device.launch("store_kv", grid: (device.strideGrid(R * kvw), 1), block: 256,
                          [dk.argument, dv.argument, dqkv.argument, .int32(Int32(QKV)), .int32(Int32(qw)), .int32(Int32(kvw)),
                           dslots.argument, dpos.argument, .int32(Int32(R)), .int32(Int32(S))])
        record("store_kv", "\(R) rows × \(kvw)", gpu: try dk.download() + dv.download(), cpu: kCache + vCache, tolerance: 0)
        let out = try device.allocate(Float.self, count: R * qw)
        try out.fill(bits: Self.poison)
        try device.launch("attention_rows", grid: (R, NH), block: 128, sharedBytes: S * 4,
                          [out.argument, dqkv.argument, .int32(Int32(QKV)), dk.argument, dv.argument, dslots.argument, dpos.argument,
                           .int32(Int32(R)), .int32(Int32(S)), .int32(Int32(NH)), .int32(Int32(KVH)), .int32(Int32(D))])
        record("attention_rows", "\(R) rows, S \(S), \(NH)/\(KVH) heads × \(D)", gpu: try out.download(), cpu: cpu)
    }

    mutating func swiglu(N: Int, H: Int) throws {
        let gateUp = values(N * 2 * H, scale: 4), dh = values(N * H)
        var cpu = [Float](repeating: 0, count: N * H), cpuBack = [Float](repeating: 0, count: N * 2 * H)
        swigluForward(&cpu, gateUp, rows: N, H: H)
        swigluBackward(dgateUp: &cpuBack, dout: dh, gateUp: gateUp, rows: N, H: H)
        let dg = try device.upload(gateUp), ddh = try device.upload(dh)
        let out = try device.allocate(Float.self, count: N * H), back = try device.allocate(Float.self, count: N * 2 * H)
        try out.fill(bits: Self.poison)
        try back.fill(bits: Self.poison)
        try device.launch("swiglu_forward", grid: (device.strideGrid(N * H), 1), block: 256, [out.argument, dg.argument, .int32(Int32(N)), .int32(Int32(H))])
        try device.launch("swiglu_backward", grid: (device.strideGrid(N * H), 1), block: 256,
                          [back.argument, ddh.argument, dg.argument, .int32(Int32(N)), .int32(Int32(H))])
        record("swiglu_forward", "\(N)×\(H)", gpu: try out.download(), cpu: cpu)
        record("swiglu_backward", "\(N)×\(H)", gpu: try back.download(), cpu: cpuBack)
    }

    mutating func addBias(N: Int, OC: Int) throws {
        let x = values(N * OC), b = values(OC)
        let cpu = (0..<N * OC).map { x[$0] + b[$0 % OC] }
        let dx = try device.upload(x), db = try device.upload(b)
        try device.launch("add_bias_rows", grid: (device.strideGrid(N * OC), 1), block: 256, [dx.argument, db.argument, .int32(Int32(N)), .int32(Int32(OC))])
        record("add_bias_rows", "\(N)×\(OC)", gpu: try dx.download(), cpu: cpu, tolerance: 0)
    }

    mutating func addInPlace(n: Int) throws {
        let x = values(n), y = values(n)
        var cpu = x
        Kernels.addInPlace(&cpu, y, count: n)
        let dx = try device.upload(x), dy = try device.upload(y)
        try device.launch("add_in_place", grid: (device.strideGrid(n), 1), block: 256, [dx.argument, dy.argument, .int64(Int64(n))])
        record("add_in_place", "\(n)", gpu: try dx.download(), cpu: cpu, tolerance: 0)
    }

    mutating func logSumExp(rows: Int, n: Int) throws {
        let x = values(rows * n, scale: 20)
        let cpu = logSumExpRows(x, rows: rows, n)
        let dx = try device.upload(x), out = try device.allocate(Float.self, count: rows)
        try out.fill(bits: Self.poison)
        try device.launch("log_sum_exp_rows", grid: (rows, 1), block: 256, [out.argument, dx.argument, .int32(Int32(rows)), .int32(Int32(n))])
        record("log_sum_exp_rows", "\(rows)×\(n)", gpu: try out.download(), cpu: cpu)
    }

    /// Random bit patterns, so that NaNs, infinities, subnormals and ties all occur.
    mutating func bf16Round(n: Int) throws {
        var x = (0..<n).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &random)) }
        x += [0x0000_8000, 0x0001_8000, 0x7F7F_FFFF, 0x007F_FFFF, 0x8000_0001, 0x7F80_0000, 0xFF80_0001].map { Float(bitPattern: $0) }
        let cpu = x.map { llmrec_bf16_round($0) }
        let dx = try device.upload(x), out = try device.allocate(UInt16.self, count: x.count)
        try device.launch("bf16_round", grid: (device.strideGrid(x.count), 1), block: 256, [out.argument, dx.argument, .int64(Int64(x.count))])
        let gpu = try out.download()
        let mismatches = zip(gpu, cpu).filter { $0 != $1 }.count
        results.append(KernelCheckResult(kernel: "bf16_round", shape: "\(x.count) bit patterns", relativeError: Double(mismatches), tolerance: 0, unwritten: 0))
    }

    mutating func adamW(n: Int) throws {
        let settings = AdamWSettings(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
        let params = values(n), grads = values(n, scale: 0.1)
        let cpuOptimizer = AdamW(count: n, settings: settings)
        var cpu = params
        let lr = 3e-4, steps = 3
        for _ in 0..<steps { cpuOptimizer.update(params: &cpu, grads: grads, lr: lr) }
        let dp = try device.upload(params), dg = try device.upload(grads)
        let dm = try device.upload([Float](repeating: 0, count: n)), dv = try device.upload([Float](repeating: 0, count: n))
        for step in 1...steps {
            try adamWUpdate(device, parameters: dp, grads: dg, m: dm, v: dv, count: n, settings: settings, step: step, lr: lr)
        }
        record("adamw_update", "\(n), \(steps) steps", gpu: try dp.download(), cpu: cpu)
    }

    /// cuBLAS against the plain loop (Double sums); in bf16 both sides take the bf16-rounded operands.
    mutating func linear(N: Int, C: Int, OC: Int, precision: CUDADevice.ProductPrecision) throws {
        var x = values(N * C), w = values(OC * C)
        if precision == .bf16 { x = x.map(bfloat16Rounded); w = w.map(bfloat16Rounded) }
        var cpu = [Float](repeating: 0, count: N * OC)
        matmulForwardNaive(&cpu, x, w, nil, N: N, C: C, OC: OC)
        let out = try device.allocate(Float.self, count: N * OC)
        try out.fill(bits: Self.poison)
        if precision == .fp32 {
            let dx = try device.upload(x), dw = try device.upload(w)
            try device.linear(out: out.address, inp: dx.address, weight: dw.address, N: N, C: C, OC: OC, precision: .fp32)
        } else {
            let fx = try device.upload(x), fw = try device.upload(w)
            let bx = try device.allocate(UInt16.self, count: x.count), bw = try device.allocate(UInt16.self, count: w.count)
            try device.launch("bf16_round", grid: (device.strideGrid(x.count), 1), block: 256, [bx.argument, fx.argument, .int64(Int64(x.count))])
            try device.launch("bf16_round", grid: (device.strideGrid(w.count), 1), block: 256, [bw.argument, fw.argument, .int64(Int64(w.count))])
            try device.linear(out: out.address, inp: bx.address, weight: bw.address, N: N, C: C, OC: OC, precision: .bf16)
        }
        record("cublas linear \(precision)", "\(N)×\(C) · \(OC)×\(C)ᵀ", gpu: try out.download(), cpu: cpu)
    }
}
