// The training pass's kernels against the CPU's: attention (forward, and the backward's query and
// key passes together), RMSNorm's backward, bias and embedding gradients, the loss rows of every
// loss, the gradient norm. Same conventions as KernelChecks.swift.
import CUDABackend
import CUDAModel
import Foundation
import Kernels
import Training

extension KernelChecks {
    mutating func runTrainingChecks() throws {
        // Head sizes below, at and between multiples of 32 (a lane holds up to 8 channels), rows not
        // a multiple of the 8 warps of a block, a sequence longer than 128.
        for (lengths, NH, KVH, D) in [([5, 13, 1, 20], 4, 2, 24), ([37, 3], 9, 3, 64), ([130, 7], 4, 2, 128), ([70], 2, 1, 200)] {
            try trainingAttention(lengths: lengths, NH: NH, KVH: KVH, D: D)
        }
        // One chunk of 64 rows, and several with a partial last one.
        for (N, C) in [(7, 576), (33, 100), (200, 576), (130, 100)] { try rmsNormBackward(N: N, C: C) }
        for N in [37, 300] { try columnSums(N: N, OC: 333) }
        try embeddingBackward(N: 300, V: 50, C: 77)
        for kind in LossKind.allCases { try lossRows(kind, R: 19, V: 1000) }
        try sumSquares(n: 1_000_003)
        try dropout(N: 37, C: 333, p: 0.3)
    }

    mutating func trainingAttention(lengths: [Int], NH: Int, KVH: Int, D: Int) throws {
        let qw = NH * D, QKV = qw + 2 * KVH * D, N = lengths.reduce(0, +), maxLen = lengths.max()!
        let qkv = values(N * QKV), dout = values(N * qw)
        var segments: [AttentionSegment] = [], offsets: [Int] = [], probTotal = 0
        var segStart: [Int32] = [], segEnd: [Int32] = [], positions: [Int32] = []
        var first = 0
        for (b, m) in lengths.enumerated() {
            segments.append(AttentionSegment(firstRow: first, rows: m, slot: b, firstPosition: 0))
            offsets.append(probTotal)
            probTotal += NH * m * m
            for i in 0..<m { segStart.append(Int32(first)); segEnd.append(Int32(first + m)); positions.append(Int32(i)) }
            first += m
        }
        let shape = AttentionShape(NH: NH, KVH: KVH, D: D)
        var cpuOut = [Float](repeating: 0, count: N * qw), probs = [Float](repeating: 0, count: probTotal)
        attentionTrainForward(&cpuOut, probs: &probs, qkv: qkv, QKV: QKV, segments: segments, probOffset: offsets, shape: shape)
        var cpuDqkv = [Float](repeating: 0, count: N * QKV)
        var scratch = [Float](repeating: 0, count: Parallel.workers * maxLen * maxLen)
        attentionTrainBackward(dqkv: &cpuDqkv, dout: dout, probs: probs, qkv: qkv, QKV: QKV, segments: segments, probOffset: offsets,
                               shape: shape, scratch: &scratch)

        let dq = try device.upload(qkv), dO = try device.upload(dout)
        let ds = try device.upload(segStart), de = try device.upload(segEnd), dp = try device.upload(positions)
        let out = try device.allocate(Float.self, count: N * qw), gpuProbs = try device.allocate(Float.self, count: N * NH * maxLen)
        try out.fill(bits: Self.poison)
        let rows = PackedRows(segStart: ds.argument, segEnd: de.argument, positions: dp.argument, rows: N, maxLength: maxLen)
        try device.attentionTrainForward(out: out.argument, probs: gpuProbs.argument, qkv: dq.argument, QKV: QKV, rows: rows, NH: NH, KVH: KVH, D: D)
        let label = "\(lengths) rows, \(NH)/\(KVH) heads × \(D)"
        record("attention_train_forward", label, gpu: try out.download(), cpu: cpuOut)
        let dqkv = try device.upload([Float](repeating: 0, count: N * QKV)), dscores = try device.allocate(Float.self, count: N * NH * maxLen)
        try device.attentionTrainBackward(dqkv: dqkv.argument, dscores: dscores.argument, dout: dO.argument, probs: gpuProbs.argument,
                                          qkv: dq.argument, QKV: QKV, rows: rows, NH: NH, KVH: KVH, D: D)
        record("attention_train_backward", label, gpu: try dqkv.download(), cpu: cpuDqkv)
    }

    mutating func rmsNormBackward(N: Int, C: Int) throws {
        let x = values(N * C, scale: 3), w = values(C), dy = values(N * C), dx0 = values(N * C), dw0 = values(C)
        var rstd = [Float](repeating: 0, count: N), normed = [Float](repeating: 0, count: N * C)
        rmsNormForward(&normed, rstd: &rstd, x, w, N: N, C: C, eps: 1e-5)
        var cpuDx = dx0, cpuDw = dw0
        Kernels.rmsNormBackward(dinp: &cpuDx, dweight: &cpuDw, dout: dy, inp: x, weight: w, rstd: rstd, N: N, C: C)
        let dX = try device.upload(dx0), dW = try device.upload(dw0)
        let gx = try device.upload(x), gw = try device.upload(w), gdy = try device.upload(dy), gr = try device.upload(rstd)
        try device.launch("rmsnorm_backward_input", grid: (N, 1), block: 256,
                          [dX.argument, gdy.argument, gx.argument, gw.argument, gr.argument, .int32(Int32(N)), .int32(Int32(C))])
        try device.columnSumsAdd(dW.argument, gdy.argument, times: gx.argument, rowScale: gr.argument, N: N, C: C)
        record("rmsnorm_backward_input", "\(N)×\(C)", gpu: try dX.download(), cpu: cpuDx)
        record("column sums (rmsnorm weight)", "\(N)×\(C)", gpu: try dW.download(), cpu: cpuDw)
    }

    mutating func columnSums(N: Int, OC: Int) throws {
        let x = values(N * OC), b0 = values(OC)
        let cpu = (0..<OC).map { o in b0[o] + (0..<N).reduce(Float(0)) { $0 + x[$1 * OC + o] } }
        let gb = try device.upload(b0), gx = try device.upload(x)
        try device.columnSumsAdd(gb.argument, gx.argument, N: N, C: OC)
        record("column sums (bias)", "\(N)×\(OC)", gpu: try gb.download(), cpu: cpu)
    }

    /// Tokens repeat (300 rows over 50 ids): the atomic adds must all land.
    mutating func embeddingBackward(N: Int, V: Int, C: Int) throws {
        let dx = values(N * C), tokens = (0..<N).map { _ in Int32(random.below(V)) }
        var cpu = [Float](repeating: 0, count: V * C)
        for r in 0..<N { for c in 0..<C { cpu[Int(tokens[r]) * C + c] += dx[r * C + c] } }
        let table = try device.upload([Float](repeating: 0, count: V * C)), gdx = try device.upload(dx), gt = try device.upload(tokens)
        try device.launch("embedding_backward", grid: (device.strideGrid(N * C), 1), block: 256,
                          [table.argument, gdx.argument, gt.argument, .int32(Int32(N)), .int32(Int32(C))])
        record("embedding_backward", "\(N) rows over \(V) ids × \(C)", gpu: try table.download(), cpu: cpu)
    }

    /// Positions with 1 to 40 valid tokens (some with one, which MSL skips), zero-IG ones and EOS.
    mutating func lossRows(_ kind: LossKind, R: Int, V: Int) throws {
        let logits = values(R * V, scale: 8)
        var positions: [ScoredPosition] = []
        for t in 0..<R {
            let count = t % 5 == 0 ? 1 : 1 + random.below(40)
            var valid = Set<Int32>()
            while valid.count < count { valid.insert(Int32(random.below(V))) }
            let sorted = valid.sorted()
            positions.append(ScoredPosition(target: sorted[random.below(sorted.count)], valid: sorted,
                                            informationGain: t % 3 == 0 ? 0 : 1.5, isEOS: t == R - 1))
        }
        let settings = LossSettings(kind: kind, beta: 0.1, tau: kind.masked ? 0.7 : 1, scaleByTau: kind.masked)
        var cpuGrad = [Float](repeating: 0, count: R * V)
        let cpuLoss = tokenLoss(settings, logits: logits, V: V, positions: positions, grad: &cpuGrad)
        let (gpuLoss, gpuGrad) = try tokenLossOnDevice(settings, logits: try device.upload(logits), V: V, positions: positions, device: device)
        record("loss rows \(kind.rawValue) (gradient)", "\(R)×\(V)", gpu: try gpuGrad.download(), cpu: cpuGrad)
        results.append(KernelCheckResult(kernel: "loss rows \(kind.rawValue) (loss)", shape: "\(R)×\(V)",
                                         relativeError: abs(gpuLoss - cpuLoss) / max(abs(cpuLoss), 1e-30), tolerance: Self.fp32Tolerance, unwritten: 0))
    }

    mutating func sumSquares(n: Int) throws {
        let x = values(n)
        let cpu = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        let blocks = device.strideGrid(n)
        let partials = try device.allocate(Float.self, count: blocks), gx = try device.upload(x)
        try partials.fill(bits: Self.poison)
        try device.launch("sum_squares", grid: (blocks, 1), block: 256, [partials.argument, gx.argument, .int64(Int64(n))])
        let gpu = try partials.download().reduce(0.0) { $0 + Double($1) }
        results.append(KernelCheckResult(kernel: "sum_squares", shape: "\(n)", relativeError: gpu.isNaN ? .infinity : abs(gpu - cpu) / cpu,
                                         tolerance: Self.fp32Tolerance, unwritten: 0))
        try gx.copy(from: x)
        try device.launch("scale_values", grid: (device.strideGrid(n), 1), block: 256, [gx.argument, .int64(Int64(n)), .float(0.37)])
        record("scale_values", "\(n)", gpu: try gx.download(), cpu: x.map { $0 * 0.37 }, tolerance: 0)
    }

    /// The mask must be the CPU's bit for bit: the same elements dropped, the rest scaled alike.
    mutating func dropout(N: Int, C: Int, p: Float) throws {
        let x = values(N * C), dx0 = values(N * C), seed: UInt64 = 0xFEED_FACE_1234_5678
        var cpu = [Float](repeating: 0, count: N * C), cpuBack = dx0
        dropoutForward(&cpu, x, rows: N, C: C, p: p, seed: seed)
        dropoutBackward(&cpuBack, x, rows: N, C: C, p: p, seed: seed)
        let gx = try device.upload(x), out = try device.allocate(Float.self, count: N * C), back = try device.upload(dx0)
        try out.fill(bits: Self.poison)
        let threshold = Int64((Double(p) * 16_777_216).rounded())
        for (buffer, accumulate) in [(out, 0), (back, 1)] {
            try device.launch("dropout_rows", grid: (device.strideGrid(N * C), 1), block: 256,
                              [buffer.argument, gx.argument, .int32(Int32(N)), .int32(Int32(C)), .int64(threshold), .float(1 / (1 - p)),
                               .int64(Int64(bitPattern: seed)), .int32(Int32(accumulate))])
        }
        record("dropout_rows", "\(N)×\(C), p \(p)", gpu: try out.download(), cpu: cpu, tolerance: 0)
        record("dropout_rows (accumulate)", "\(N)×\(C), p \(p)", gpu: try back.download(), cpu: cpuBack, tolerance: 0)
    }
}
