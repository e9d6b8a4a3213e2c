// Panels kept in GGUF blocks against the weights those blocks mean, written out here from the
// block layouts (ggml-common.h): Q4_1 = d, m (halves), 16 bytes of nibbles (value j in the low
// nibble of byte j, value j + 16 in the high one), weight q·d + m; Q8_0 = d, 32 int8, q·d.
import Testing
@testable import Kernels

/// GGUF blocks of `rows` × `inputs` weights with random codes and scales, and their weights.
func randomBlocks(_ code: PanelWeights.BlockCode, rows: Int, inputs: Int, seed: UInt64) -> (bytes: [UInt8], weights: [Float]) {
    var s = seed
    func next() -> UInt64 {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return s >> 33
    }
    var bytes: [UInt8] = [], weights: [Float] = []
    for _ in 0..<(rows * inputs / 32) {
        // Scales of either sign and a range of exponents, including a subnormal half.
        let d = Float16(Float(Int(next() % 2001) - 1000) / 8192), m = Float16(Float(Int(next() % 2001) - 1000) / 64)
        let halves = bytes.isEmpty ? [Float16(bitPattern: 0x0003), m] : [d, m]
        for h in (code == .q4_1 ? halves : [halves[0]]) { bytes += [UInt8(h.bitPattern & 0xFF), UInt8(h.bitPattern >> 8)] }
        let (df, mf) = (Float(halves[0]), Float(halves[1]))
        if code == .q4_1 {
            let q = (0..<32).map { _ in UInt8(next() % 16) }
            bytes += (0..<16).map { q[$0] | q[$0 + 16] << 4 }
            weights += q.map { Float($0) * df + mf }
        } else {
            let q = (0..<32).map { _ in Int8(truncatingIfNeeded: next()) }
            bytes += q.map { UInt8(bitPattern: $0) }
            weights += q.map { Float($0) * df }
        }
    }
    return (bytes, weights)
}

@Suite("Block panels")
struct BlockPanelTests {
    // Outputs ending inside a panel's halves; rows in one register block (Q4_1 expands in
    // registers) and beyond (through scratch), and across the 512 KB row block (C = 2048: 60 rows).
    @Test(.enabled(if: PanelWeights.available, "the panel kernel needs AVX-512"),
          arguments: [PanelWeights.BlockCode.q4_1, .q8_0], [(70, 64), (16, 96), (33, 2048)])
    func blocksExpandToTheirWeightsAndMultiplyBitIdentically(_ code: PanelWeights.BlockCode, _ shape: (Int, Int)) {
        let (OC, C) = shape
        let (bytes, weights) = randomBlocks(code, rows: OC, inputs: C, seed: 7)
        let rowBytes = C / 32 * code.sourceBlockBytes
        let blocks = bytes.withUnsafeBytes { raw in
            PanelWeights(blockRows: (0..<OC).map { raw.baseAddress! + $0 * rowBytes }, code: code, inputs: C)
        }
        let floats = PanelWeights(weights, outputs: OC, inputs: C)
        #expect(blocks.unpacked() == weights)
        #expect(blocks.bytes < floats.bytes / 3)
        let bias = randomFloats(OC, seed: 9)
        for N in [1, 5, 12, 13, 29, 61] {
            let inp = randomFloats(N * C, seed: UInt64(N))
            var a = [Float](repeating: .nan, count: N * OC), b = a
            blocks.multiply(&a, inp, bias: bias, rows: N)
            floats.multiply(&b, inp, bias: bias, rows: N)
            #expect(a == b, "\(code) N=\(N) OC=\(OC) C=\(C)")
        }
    }
}
