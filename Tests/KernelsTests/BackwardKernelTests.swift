// Each backward kernel against central finite differences of its forward kernel:
// with L = Σ u ⊙ f(x) for a fixed random u, d L / d x from the backward must match
// (L(x + h) − L(x − h)) / 2h, for every input (float32 kernels, h = 1e-2, so 1e-3 tolerance).
import Foundation
import Testing
@testable import Kernels

/// Central differences of `f` (x → outputs) contracted with `u`, for every entry of x.
func numericGradient(_ x: [Float], _ u: [Float], _ f: ([Float]) -> [Float]) -> [Double] {
    let h: Float = 1e-2
    return x.indices.map { i in
        var up = x, down = x
        up[i] += h
        down[i] -= h
        let lu = zip(f(up), u).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let ld = zip(f(down), u).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        return (lu - ld) / Double(2 * h)
    }
}

func expectClose(_ analytic: [Float], _ numeric: [Double], _ what: String) {
    let scale = max(numeric.map { abs($0) }.max() ?? 1, 1e-3)
    let worst = zip(analytic, numeric).map { abs(Double($0) - $1) }.max() ?? 0
    #expect(worst <= 1e-3 * scale + 1e-4, "\(what): worst difference \(worst) at scale \(scale)")
}

@Suite("Backward kernels against finite differences")
struct BackwardKernelTests {
    @Test func matmul() {
        let (N, C, OC) = (3, 5, 4)
        let x = randomFloats(N * C, seed: 11), w = randomFloats(OC * C, seed: 12), b = randomFloats(OC, seed: 13), u = randomFloats(N * OC, seed: 14)
        var dx = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: OC * C), db = [Float](repeating: 0, count: OC)
        matmulBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: u, inp: x, weight: w, N: N, C: C, OC: OC)
        func f(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: N * OC)
            matmulForwardNaive(&out, x, w, b, N: N, C: C, OC: OC)
            return out
        }
        expectClose(dx, numericGradient(x, u) { f($0, w, b) }, "d input")
        expectClose(dw, numericGradient(w, u) { f(x, $0, b) }, "d weight")
        expectClose(db, numericGradient(b, u) { f(x, w, $0) }, "d bias")
        // Frozen weights: only the input gradient.
        var dx2 = [Float](repeating: 0, count: N * C)
        matmulBackward(dinp: &dx2, dweight: nil, dbias: nil, dout: u, inp: x, weight: w, N: N, C: C, OC: OC)
        #expect(dx2 == dx)
    }

    @Test func rmsNorm() {
        let (N, C) = (2, 6)
        let x = randomFloats(N * C, seed: 21).map { $0 * 2 }, w = randomFloats(C, seed: 22), u = randomFloats(N * C, seed: 23)
        var out = [Float](repeating: 0, count: N * C), rstd = [Float](repeating: 0, count: N)
        rmsNormForward(&out, rstd: &rstd, x, w, N: N, C: C, eps: 1e-5)
        var dx = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: C)
        rmsNormBackward(dinp: &dx, dweight: &dw, dout: u, inp: x, weight: w, rstd: rstd, N: N, C: C)
        func f(_ x: [Float], _ w: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: N * C)
            rmsNormForward(&out, x, w, N: N, C: C, eps: 1e-5)
            return out
        }
        expectClose(dx, numericGradient(x, u) { f($0, w) }, "d input")
        expectClose(dw, numericGradient(w, u) { f(x, $0) }, "d weight")
    }

    @Test func swiglu() {
        let (N, H) = (2, 9)
        let gu = randomFloats(N * 2 * H, seed: 31).map { $0 * 3 }, u = randomFloats(N * H, seed: 32)
        var d = [Float](repeating: 0, count: N * 2 * H)
        swigluBackward(dgateUp: &d, dout: u, gateUp: gu, rows: N, H: H)
        expectClose(d, numericGradient(gu, u) { x in
            var out = [Float](repeating: 0, count: N * H)
            swigluForward(&out, x, rows: N, H: H)
            return out
        }, "d gate/up")
    }

    @Test func ropeInverseUndoesRope() {
        let table = RoPETable(headDim: 8, theta: 10_000, maxPositions: 20)
        var x = randomFloats(16, seed: 41)
        let original = x
        table.apply(&x, heads: 2, pos: 13)
        table.applyInverse(&x, heads: 2, pos: 13)
        #expect(maxDiff(x, original) < 1e-6)
    }

    @Test func attention() {
        // Two segments (3 and 4 rows), NH 4 over KVH 2, D 4: q, k, v in one qkv buffer.
        let shape = AttentionShape(NH: 4, KVH: 2, D: 4)
        let qw = 16, QKV = qw + 2 * 8
        let segments = [AttentionSegment(firstRow: 0, rows: 3, slot: 0, firstPosition: 0),
                        AttentionSegment(firstRow: 3, rows: 4, slot: 1, firstPosition: 0)]
        let probOffset = [0, 4 * 9]
        let N = 7
        let qkv = randomFloats(N * QKV, seed: 51).map { $0 * 1.5 }, u = randomFloats(N * qw, seed: 52)
        func f(_ x: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: N * qw), probs = [Float](repeating: 0, count: 4 * (9 + 16))
            attentionTrainForward(&out, probs: &probs, qkv: x, QKV: QKV, segments: segments, probOffset: probOffset, shape: shape)
            return out
        }
        var out = [Float](repeating: 0, count: N * qw), probs = [Float](repeating: 0, count: 4 * (9 + 16))
        attentionTrainForward(&out, probs: &probs, qkv: qkv, QKV: QKV, segments: segments, probOffset: probOffset, shape: shape)
        var d = [Float](repeating: 0, count: N * QKV), scratch = [Float](repeating: 0, count: Parallel.workers * 16)
        attentionTrainBackward(dqkv: &d, dout: u, probs: probs, qkv: qkv, QKV: QKV, segments: segments, probOffset: probOffset,
                               shape: shape, scratch: &scratch)
        expectClose(d, numericGradient(qkv, u, f), "d qkv")
        // The training forward agrees with the cached inference kernel on the same rows.
        var kCache = [Float](repeating: 0, count: 2 * 4 * 8), vCache = kCache
        for seg in segments {
            for i in 0..<seg.rows {
                for c in 0..<8 {
                    kCache[(seg.slot * 4 + i) * 8 + c] = qkv[(seg.firstRow + i) * QKV + qw + c]
                    vCache[(seg.slot * 4 + i) * 8 + c] = qkv[(seg.firstRow + i) * QKV + qw + 8 + c]
                }
            }
        }
        var cached = [Float](repeating: 0, count: N * qw), scratch2 = [Float](repeating: 0, count: Parallel.workers * 4 * 4)
        attentionForward(&cached, qkv, qStride: QKV, kCache, vCache, segments: segments, S: 4, shape: shape, scratch: &scratch2)
        #expect(maxDiff(cached, out) < 1e-5)
    }
}
