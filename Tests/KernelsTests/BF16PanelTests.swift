// bf16 panels against references written out here: the rounding against the nearest bf16 found
// by distance in Double, the products against plain loops over the rounded inputs and weights.
import CPanelKernels
import Foundation
import Testing
@testable import Kernels

/// The bf16 nearest to x by distance (ties to the even significand), found without bit tricks:
/// the two bf16 values around x are its truncation and the next one away from zero. Float32
/// subnormals become a zero of their sign (as x86's conversion instructions treat them).
private func nearestBF16(_ x: Float) -> UInt16 {
    let bits = x.bitPattern, down = UInt16(bits >> 16)
    if x.isSubnormal { return down & 0x8000 }
    let below = Double(Float(bitPattern: UInt32(down) << 16)), above = Double(Float(bitPattern: UInt32(down + 1) << 16))
    let d1 = abs(Double(x) - below), d2 = abs(above - Double(x))
    if bits & 0xFFFF == 0 || d1 < d2 { return down }
    if d2 < d1 { return down + 1 }
    return down % 2 == 0 ? down : down + 1
}

/// out = bf16(inp) · bf16(W)ᵀ + bias in Float32, each output's sum over channel pairs in order,
/// the odd channel's product first (as `vdpbf16ps` adds them).
private func referenceProduct(_ inp: [Float], _ weight: [Float], _ bias: [Float], N: Int, C: Int, OC: Int) -> (out: [Float], magnitude: [Double]) {
    var out = [Float](repeating: 0, count: N * OC), magnitude = [Double](repeating: 0, count: N * OC)
    for n in 0..<N {
        for o in 0..<OC {
            var acc = bias[o], size = Double(abs(bias[o]))
            for k in stride(from: 0, to: C, by: 2) {
                for c in [k + 1, k] where c < C {
                    let p = bfloat16Rounded(inp[n * C + c]) * bfloat16Rounded(weight[o * C + c])
                    acc += p
                    size += Double(abs(p))
                }
            }
            out[n * OC + o] = acc
            magnitude[n * OC + o] = size
        }
    }
    return (out, magnitude)
}

@Suite("bf16 panels")
struct BF16PanelTests {
    @Test func roundingIsToNearestTiesToEven() {
        let cases: [(UInt32, UInt16)] = [
            (0x3F80_0000, 0x3F80), (0x3F80_8000, 0x3F80), (0x3F81_8000, 0x3F82), (0x3F80_8001, 0x3F81), (0x3F80_7FFF, 0x3F80),
            (0x7F80_0000, 0x7F80), (0x7F7F_FFFF, 0x7F80), (0x8000_0000, 0x8000), (0x0000_8000, 0x0000), (0x0001_8000, 0x0000),
            (0x807F_FFFF, 0x8000), (0x0080_0000, 0x0080), (0xBF80_C000, 0xBF81), (0x7F80_0001, 0x7FC0),
        ]
        for (bits, expected) in cases { #expect(llmrec_bf16_round(Float(bitPattern: bits)) == expected, "\(String(bits, radix: 16))") }
        #expect(bfloat16Rounded(.nan).isNaN)
        #expect(bfloat16Rounded(Float(bitPattern: 0x7F80_0001)).isNaN)  // a signalling NaN does not become infinity
        var s: UInt64 = 3
        for _ in 0..<200_000 {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let x = Float(bitPattern: UInt32(truncatingIfNeeded: s >> 17))
            guard x.isFinite, abs(x) < Float(bitPattern: 0x7F7F_0000) else { continue }
            #expect(llmrec_bf16_round(x) == nearestBF16(x), "\(x)")
        }
    }

    /// Each kernel's rounding of inputs is the scalar one, bit for bit: NaNs, infinities and
    /// subnormals included.
    @Test(arguments: kernels)
    func kernelsRoundAsTheScalarRounding(_ kernel: PanelWeights.BF16Kernel) {
        var s: UInt64 = 5
        let values: [Float] = (0..<10_000).map { i in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let bits = UInt32(truncatingIfNeeded: s >> 17)
            // Every fourth value subnormal, NaN or infinite.
            return Float(bitPattern: i % 4 == 0 ? bits & 0x807F_FFFF | (i % 8 == 0 ? 0 : 0x7F80_0000) : bits)
        }
        var rounded = [UInt16](repeating: 0, count: values.count)
        llmrec_bf16_round_values(&rounded, values, values.count, kernel.c)
        #expect(rounded == values.map(llmrec_bf16_round))
    }

    /// The kernels this machine can run: the portable loop always, AVX512-BF16 and AMX where present.
    static let kernels = PanelWeights.BF16Kernel.allCases.filter(\.available)

    // Outputs ending inside a panel's halves, channel counts off whole tiles (97: padding inside
    // a pair and a tile), one channel, rows inside one register block or tile and across the row
    // blocks (C = 2048: 96 rows).
    @Test(arguments: kernels, [(70, 64), (16, 97), (33, 2048), (5, 1)])
    func productMatchesThePlainLoopOverRoundedValues(_ kernel: PanelWeights.BF16Kernel, _ shape: (Int, Int)) {
        let (OC, C) = shape
        let weight = randomFloats(OC * C, seed: 11), bias = randomFloats(OC, seed: 12)
        let panels = PanelWeights(bfloat16: weight, outputs: OC, inputs: C, kernel: kernel)
        #expect(panels.unpacked() == weight.map(bfloat16Rounded))
        if C % 32 == 0 { #expect(panels.bytes * 2 == PanelWeights(weight, outputs: OC, inputs: C).bytes) }
        for N in [1, 5, 12, 13, 29, 130] {
            let inp = randomFloats(N * C, seed: UInt64(N))
            var out = [Float](repeating: .nan, count: N * OC)
            panels.multiply(&out, inp, bias: bias, rows: N)
            let (expected, magnitude) = referenceProduct(inp, weight, bias, N: N, C: C, OC: OC)
            if kernel == .portable {
                #expect(out == expected, "N=\(N) OC=\(OC) C=\(C)")
            } else {
                // The same products; allow for hardware that adds them in another order (AMX
                // sums within a tile, and adds the bias last).
                let worst = zip(zip(out, expected), magnitude).map { Double(abs($0.0 - $0.1)) / max($1, 1e-30) }.max()!
                #expect(worst <= 0x1p-20, "N=\(N) OC=\(OC) C=\(C): \(worst)")
            }
            // A row's result does not depend on what it is batched with.
            var single = [Float](repeating: .nan, count: OC)
            panels.multiply(&single, Array(inp[(N - 1) * C..<N * C]), bias: bias, rows: 1)
            #expect(single == Array(out[(N - 1) * OC..<N * OC]))
        }
    }

    @Test(arguments: kernels)
    func kernelsAgreeWithThePortableLoop(_ kernel: PanelWeights.BF16Kernel) {
        let (OC, C, N) = (96, 576, 40)
        let weight = randomFloats(OC * C, seed: 21), inp = randomFloats(N * C, seed: 22)
        var fast = [Float](repeating: 0, count: N * OC), portable = fast
        PanelWeights(bfloat16: weight, outputs: OC, inputs: C, kernel: kernel).multiply(&fast, inp, bias: nil, rows: N)
        PanelWeights(bfloat16: weight, outputs: OC, inputs: C, kernel: .portable).multiply(&portable, inp, bias: nil, rows: N)
        #expect(maxDiff(fast, portable) <= 1e-5 * (portable.map(abs).max() ?? 1))
    }

    /// Dispatch follows what the kernel reports of the CPU: on Linux, its `avx512_bf16` flag.
    @Test func dispatchFollowsTheCPUFlags() throws {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return }
        let words = Set(flags.split(separator: " ").map(String.init))
        #expect(PanelWeights.bf16KernelAvailable == (words.contains("avx512_bf16") && words.contains("avx512f") && words.contains("avx512bw")))
        // AMX also needs the kernel's permission, which Linux grants where it lists the flags.
        #expect(PanelWeights.amxAvailable == (PanelWeights.bf16KernelAvailable && words.contains("amx_bf16") && words.contains("amx_tile")))
        let best: PanelWeights.BF16Kernel = PanelWeights.amxAvailable ? .amx : PanelWeights.bf16KernelAvailable ? .avx512bf16 : .portable
        #expect(PanelWeights.BF16Kernel.best == best)
    }
}

/// The three products of a training step in bf16 against plain loops over the rounded operands.
@Suite("bf16 training products")
struct BF16TrainingProductTests {
    /// Σ_k bf16(x_k)·bf16(y_k) in Double, and Σ |…| for the tolerance.
    static func dot(_ count: Int, _ x: (Int) -> Float, _ y: (Int) -> Float) -> (sum: Double, size: Double) {
        var sum = 0.0, size = 0.0
        for k in 0..<count {
            let p = Double(bfloat16Rounded(x(k))) * Double(bfloat16Rounded(y(k)))
            sum += p
            size += abs(p)
        }
        return (sum, size)
    }

    static func expectClose(_ got: [Float], _ want: [(sum: Double, size: Double)], _ what: String) {
        let worst = zip(got, want).map { abs(Double($0) - $1.sum) / max($1.size, 1e-6) }.max() ?? 0
        #expect(worst <= 0x1p-18, "\(what): \(worst)")
    }

    // Sizes off every block: rows across the 12-row and 32-row groups, channels off whole tiles.
    @Test(arguments: BF16PanelTests.kernels, [(37, 70, 45), (100, 576, 33), (3, 5, 97)])
    func forwardAndBackwardMatchPlainLoops(_ kernel: PanelWeights.BF16Kernel, _ shape: (Int, Int, Int)) {
        let (N, C, OC) = shape
        let x = randomFloats(N * C, seed: 1), w = randomFloats(OC * C, seed: 2), bias = randomFloats(OC, seed: 3)
        let dy = randomFloats(N * OC, seed: 4), dx0 = randomFloats(N * C, seed: 5), dw0 = randomFloats(OC * C, seed: 6)

        var out = [Float](repeating: .nan, count: N * OC)
        matmulForwardBF16(&out, x, w, bias, N: N, C: C, OC: OC, kernel: kernel)
        Self.expectClose(out, (0..<N * OC).map { i in
            let (n, o) = (i / OC, i % OC)
            let d = Self.dot(C, { x[n * C + $0] }, { w[o * C + $0] })
            return (d.sum + Double(bias[o]), d.size + Double(abs(bias[o])))
        }, "forward \(kernel) \(shape)")

        var dx = dx0, dw = dw0, db = [Float](repeating: 1, count: OC)
        matmulBackwardBF16(dinp: &dx, dweight: &dw, dbias: &db, dout: dy, inp: x, weight: w, N: N, C: C, OC: OC, kernel: kernel)
        Self.expectClose(dx, (0..<N * C).map { i in
            let (n, c) = (i / C, i % C)
            let d = Self.dot(OC, { dy[n * OC + $0] }, { w[$0 * C + c] })
            return (d.sum + Double(dx0[i]), d.size + Double(abs(dx0[i])))
        }, "dinp \(kernel) \(shape)")
        Self.expectClose(dw, (0..<OC * C).map { i in
            let (o, c) = (i / C, i % C)
            let d = Self.dot(N, { dy[$0 * OC + o] }, { x[$0 * C + c] })
            return (d.sum + Double(dw0[i]), d.size + Double(abs(dw0[i])))
        }, "dweight \(kernel) \(shape)")
        for o in 0..<OC {
            let want = 1 + (0..<N).reduce(0.0) { $0 + Double(dy[$1 * OC + o]) }
            #expect(abs(Double(db[o]) - want) <= 1e-5 * Double(N), "dbias[\(o)]")
        }
    }
}

/// Weights kept in GGUF blocks and expanded to bf16 just before use give the products of bf16
/// panels packed from the dequantised weights, bit for bit.
@Suite("bf16 block panels")
struct BF16BlockPanelTests {
    @Test(arguments: BF16PanelTests.kernels, [PanelWeights.BlockCode.q4_1, .q8_0])
    func blocksGiveTheBFloat16PanelsProducts(_ kernel: PanelWeights.BF16Kernel, _ code: PanelWeights.BlockCode) {
        for (OC, C) in [(70, 64), (33, 2048)] {
            let (bytes, weights) = randomBlocks(code, rows: OC, inputs: C, seed: 17)
            let rowBytes = C / 32 * code.sourceBlockBytes
            let blocks = bytes.withUnsafeBytes { raw in
                PanelWeights(blockRows: (0..<OC).map { raw.baseAddress! + $0 * rowBytes }, code: code, inputs: C, bf16: kernel)
            }
            let panels = PanelWeights(bfloat16: weights, outputs: OC, inputs: C, kernel: kernel)
            #expect(blocks.unpacked() == weights.map(bfloat16Rounded))
            #expect(blocks.bytes * 16 <= panels.bytes * 9)  // 0.75 (Q4_1) or 1.125 (Q8_0) bytes a weight against 2
            let bias = randomFloats(OC, seed: 9)
            for N in [1, 10, 13, 40, 130] {
                let inp = randomFloats(N * C, seed: UInt64(N))
                var a = [Float](repeating: .nan, count: N * OC), b = a
                blocks.multiply(&a, inp, bias: bias, rows: N)
                panels.multiply(&b, inp, bias: bias, rows: N)
                #expect(a == b, "\(kernel) \(code) N=\(N) OC=\(OC) C=\(C)")
            }
        }
    }
}
