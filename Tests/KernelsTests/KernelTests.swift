// Fast kernels against their plain-loop references, and small cases worked out by hand.
import Foundation
import Testing
@testable import Kernels

/// Deterministic pseudo-random floats in [-1, 1).
func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: s) >> 40) / Float(1 << 23)
    }
}

func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

@Suite("Kernels")
struct KernelTests {
    @Test(arguments: [(1, 7, 5), (2, 64, 960), (3, 33, 17), (10, 576, 1537), (16, 40, 3), (17, 576, 192), (64, 96, 1000)])
    func matmulMatchesNaive(_ shape: (Int, Int, Int)) {
        let (N, C, OC) = shape
        let inp = randomFloats(N * C, seed: 1), w = randomFloats(OC * C, seed: 2), b = randomFloats(OC, seed: 3)
        for useBias in [false, true] {
            var fast = [Float](repeating: .nan, count: N * OC), slow = fast
            b.withUnsafeBufferPointer { bp in
                let bias = useBias ? bp.baseAddress : nil
                matmulForward(&fast, inp, w, bias, N: N, C: C, OC: OC)
                matmulForwardNaive(&slow, inp, w, bias, N: N, C: C, OC: OC)
            }
            #expect(maxDiff(fast, slow) < 1e-4, "N=\(N) C=\(C) OC=\(OC) bias=\(useBias): \(maxDiff(fast, slow))")
        }
    }

    // Row counts around the 12-row register block and, with C = 2000, across the 24-row L2 block;
    // output widths that end inside a panel's first or second half.
    @Test(.enabled(if: PanelWeights.available, "the panel kernel needs AVX-512"),
          arguments: [(1, 7, 5), (10, 576, 960), (12, 64, 17), (13, 33, 45), (25, 2000, 100), (50, 2000, 64), (30, 96, 1000)])
    func panelProductMatchesNaive(_ shape: (Int, Int, Int)) {
        let (N, C, OC) = shape
        let inp = randomFloats(N * C, seed: 11), w = randomFloats(OC * C, seed: 12), b = randomFloats(OC, seed: 13)
        let packed = PanelWeights(w, outputs: OC, inputs: C)
        for useBias in [false, true] {
            var fast = [Float](repeating: .nan, count: N * OC), slow = fast
            b.withUnsafeBufferPointer { bp in
                packed.multiply(&fast, inp, bias: useBias ? bp.baseAddress : nil, rows: N)
                matmulForwardNaive(&slow, inp, w, useBias ? bp.baseAddress : nil, N: N, C: C, OC: OC)
            }
            #expect(maxDiff(fast, slow) < 1e-4 * Float(C).squareRoot(), "N=\(N) C=\(C) OC=\(OC) bias=\(useBias): \(maxDiff(fast, slow))")
            // Each row's sums run in the same order whatever the batch: one row alone is bit-identical.
            var alone = [Float](repeating: .nan, count: OC)
            b.withUnsafeBufferPointer { bp in
                packed.multiply(&alone, Array(inp[((N - 1) * C)...]), bias: useBias ? bp.baseAddress : nil, rows: 1)
            }
            #expect(alone == Array(fast[((N - 1) * OC)...]))
        }
    }

    @Test(.enabled(if: PanelWeights.available, "the panel kernel needs AVX-512"))
    func panelProductStaysInsideItsOutput() {
        let (N, C, OC) = (3, 8, 20)
        let packed = PanelWeights(randomFloats(OC * C, seed: 1), outputs: OC, inputs: C)
        var out = [Float](repeating: 42, count: N * OC + 50)
        packed.multiply(&out, randomFloats(N * C, seed: 2), bias: nil, rows: N)
        #expect(out[(N * OC)...].allSatisfy { $0 == 42 }, "masked stores past OC")
    }

    @Test func attentionBlocksMatchRowByRow() {
        // Two slots: slot 0 continues after 5 cached positions (4 new rows), slot 1 starts fresh (7 rows),
        // plus a single decoding row for slot 0; grouped-query heads (NH 6, KVH 2).
        let shape = AttentionShape(NH: 6, KVH: 2, D: 8)
        let S = 16, kv = shape.KVH * shape.D, qw = shape.NH * shape.D
        let kCache = randomFloats(2 * S * kv, seed: 4), vCache = randomFloats(2 * S * kv, seed: 5)
        let segments = [AttentionSegment(firstRow: 0, rows: 4, slot: 0, firstPosition: 5),
                        AttentionSegment(firstRow: 4, rows: 7, slot: 1, firstPosition: 0),
                        AttentionSegment(firstRow: 11, rows: 1, slot: 0, firstPosition: 9)]
        var rows: [QueryRow] = []
        for s in segments { for i in 0..<s.rows { rows.append(QueryRow(slot: s.slot, position: s.firstPosition + i)) } }
        let R = rows.count
        let q = randomFloats(R * qw, seed: 6)
        var fast = [Float](repeating: .nan, count: R * qw), slow = fast
        var scratch = [Float](repeating: 0, count: Parallel.workers * 7 * S)
        attentionForward(&fast, q, qStride: qw, kCache, vCache, segments: segments, S: S, shape: shape, scratch: &scratch)
        attentionForwardNaive(&slow, q, kCache, vCache, rows: rows, R: R, S: S, shape: shape, scratch: &scratch)
        #expect(maxDiff(fast, slow) < 1e-5)
        // By hand for one row and head: softmax over positions 0...5 of slot 0, KV head 0.
        let r = 0, h = 1, D = shape.D
        let scores = (0...5).map { s in (0..<D).reduce(Float(0)) { $0 + q[r * qw + h * D + $1] * kCache[s * kv + $1] } / Float(D).squareRoot() }
        let e = scores.map { exp($0 - scores.max()!) }
        let p = e.map { $0 / e.reduce(0, +) }
        let want = (0..<D).map { d in (0...5).reduce(Float(0)) { $0 + p[$1] * vCache[$1 * kv + d] } }
        #expect(maxDiff(Array(fast[(r * qw + h * D)..<(r * qw + h * D + D)]), want) < 1e-5)
    }

    @Test func ropeRotatesHalvesByPositionTimesFrequency() {
        let D = 8, theta = 10_000.0
        let table = RoPETable(headDim: D, theta: theta, maxPositions: 10)
        var x = randomFloats(2 * D, seed: 7)
        let original = x
        table.apply(&x, heads: 2, pos: 3)
        for h in 0..<2 {
            for i in 0..<D / 2 {
                let angle = 3 * pow(theta, -Double(2 * i) / Double(D))
                let (a, b) = (Double(original[h * D + i]), Double(original[h * D + i + D / 2]))
                #expect(abs(Double(x[h * D + i]) - (a * cos(angle) - b * sin(angle))) < 1e-5)
                #expect(abs(Double(x[h * D + i + D / 2]) - (b * cos(angle) + a * sin(angle))) < 1e-5)
            }
        }
        var y = original
        table.apply(&y, heads: 2, pos: 0)
        #expect(y == original, "position 0 is the identity")
    }

    @Test func llama3ScalingEqualsItsGGUFFrequencyFactors() {
        // Llama 3.2's rope_scaling; the GGUF form divides each inverse frequency by a factor.
        let s = RoPETable.Llama3Scaling(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)
        let scaled = RoPETable(headDim: 64, theta: 500_000, maxPositions: 300, llama3Scaling: s)
        let factors = s.frequencyFactors(headDim: 64, theta: 500_000)
        #expect(factors.first == 1 && factors.last == 32, "high frequencies kept, low ones divided by the factor")
        let viaFactors = RoPETable(headDim: 64, theta: 500_000, maxPositions: 300, frequencyFactors: factors)
        var a = randomFloats(64, seed: 8), b = a
        scaled.apply(&a, heads: 1, pos: 299)
        viaFactors.apply(&b, heads: 1, pos: 299)
        #expect(maxDiff(a, b) < 1e-4)
        var plain = randomFloats(64, seed: 8)
        RoPETable(headDim: 64, theta: 500_000, maxPositions: 300).apply(&plain, heads: 1, pos: 299)
        #expect(maxDiff(a, plain) > 1e-2, "the scaling changes the rotation")
    }

    @Test func rmsNormAndSwiGLUByHand() {
        var out = [Float](repeating: 0, count: 2)
        rmsNormForward(&out, [3, 4], [1, 2], N: 1, C: 2, eps: 0)
        // rms = sqrt((9 + 16) / 2) = 3.5355
        #expect(abs(out[0] - 3 / 3.5355339) < 1e-5 && abs(out[1] - 2 * 4 / 3.5355339) < 1e-5)
        var h = [Float](repeating: 0, count: 2)
        swigluForward(&h, [0, 2, 5, -1], rows: 1, H: 2)
        #expect(h[0] == 0)
        #expect(abs(h[1] - 2 / (1 + exp(-2)) * -1) < 1e-6)
        #expect(abs(logSumExp([1, 2, 3], 3) - log(exp(1) + exp(2) + exp(3))) < 1e-6)
    }

    /// The vector path (eight lanes, then a scalar tail) against a sum in Double, on a
    /// vocabulary-sized row of logits spread as a model's are, and per row in parallel.
    @Test func logSumExpOfLongRows() {
        let (rows, V) = (3, 49_157)
        let x = randomFloats(rows * V, seed: 9).map { $0 * 12 }
        let fast = logSumExpRows(x, rows: rows, V)
        for r in 0..<rows {
            let row = x[(r * V)..<((r + 1) * V)].map(Double.init)
            let m = row.max()!
            let want = m + log(row.reduce(0) { $0 + exp($1 - m) })
            #expect(abs(Double(fast[r]) - want) < 1e-5, "row \(r): \(fast[r]) vs \(want)")
        }
        #expect(logSumExp([-.infinity, -.infinity], 2) == -.infinity)
    }

    @Test func vectorExpMatchesLibm() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0137 })
            let got = exp8(v)
            for k in 0..<8 {
                let want = expf(v[k])
                worst = max(worst, abs(got[k] - want) / want)
            }
            x += 0.1
        }
        #expect(worst < 2.5e-7, "max relative error \(worst) (2 ulp is 2.4e-7)")
        #expect(exp8(SIMD8(repeating: 0)) == SIMD8(repeating: 1))
        #expect(exp8(SIMD8(repeating: -200)).max() < 1e-37, "underflow goes to (nearly) zero, not garbage")
        // SwiGLU's vector path and its scalar tail agree with the formula (H = 11: 8 + 3).
        let gu = randomFloats(22, seed: 9).map { $0 * 6 }
        var out = [Float](repeating: 0, count: 11)
        swigluForward(&out, gu, rows: 1, H: 11)
        let want = (0..<11).map { gu[$0] / (1 + exp(-gu[$0])) * gu[11 + $0] }
        #expect(maxDiff(out, want) < 1e-5)
    }

    @Test func blasCoreCheck() {
        let modern: Set<String> = ["avx", "avx2", "fma", "avx512f"]
        #expect(BLASSetup.recommendedCore(detected: "Prescott", cpuFlags: modern) == "SkylakeX")
        #expect(BLASSetup.recommendedCore(detected: "Prescott", cpuFlags: ["avx2", "fma"]) == "Haswell")
        #expect(BLASSetup.recommendedCore(detected: "Cooperlake", cpuFlags: modern) == nil)
        #expect(BLASSetup.recommendedCore(detected: "Prescott", cpuFlags: ["sse4_2"]) == nil, "an old CPU keeps its core")
        #expect(!BLASSetup.detectedCore.isEmpty)
    }
}
