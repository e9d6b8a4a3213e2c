// ggml tensor types and their dequantisation to Float32, block by block, following the
// block layouts of ggml/src/ggml-common.h and the reference `dequantize_row_*` functions of
// ggml/src/ggml-quants.c. Checked against gguf-py's numpy dequantisation (scripts/fixtures).
// Block legend: d = scale (f16), m/dmin = offset (f16), qs = packed quants, qh = high bits.
import Foundation

public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8
    case q4_K = 12, q5_K = 13, q6_K = 14, bf16 = 30

    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        }
    }

    /// Values per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: 32
        case .q4_K, .q5_K, .q6_K: 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: 18  // d, qs[16]
        case .q4_1: 20  // d, m, qs[16]
        case .q5_0: 22  // d, qh[4], qs[16]
        case .q5_1: 24  // d, m, qh[4], qs[16]
        case .q8_0: 34  // d, qs[32] (int8)
        case .q4_K: 144  // d, dmin, scales[12], qs[128]
        case .q5_K: 176  // d, dmin, scales[12], qh[32], qs[128]
        case .q6_K: 210  // ql[128], qh[64], scales[16] (int8), d
        }
    }
}

@inline(__always)
func halfToFloat(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

/// Dequantises `count` values (a whole number of blocks) from `src` into `dst`.
public func dequantize(_ type: GGMLType, _ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count % type.blockSize == 0 && src.count >= count / type.blockSize * type.blockBytes,
                 "dequantize: \(count) values of \(type.name) need \(count / type.blockSize * type.blockBytes) bytes")
    let base = src.baseAddress!
    let blocks = count / type.blockSize
    switch type {
    case .f32:
        memcpy(dst, base, count * 4)
    case .f16:
        for i in 0..<count { dst[i] = halfToFloat(base, 2 * i) }
    case .bf16:
        for i in 0..<count {
            dst[i] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
        }
    case .q4_0:
        for b in 0..<blocks {
            let p = base + b * 18, y = dst + b * 32
            let d = halfToFloat(p, 0)
            let qs = (p + 2).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                y[j] = Float(Int(qs[j] & 0x0F) - 8) * d
                y[j + 16] = Float(Int(qs[j] >> 4) - 8) * d
            }
        }
    case .q4_1:
        for b in 0..<blocks {
            let p = base + b * 20, y = dst + b * 32
            let d = halfToFloat(p, 0), m = halfToFloat(p, 2)
            let qs = (p + 4).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                y[j] = Float(qs[j] & 0x0F) * d + m
                y[j + 16] = Float(qs[j] >> 4) * d + m
            }
        }
    case .q5_0, .q5_1:
        let hasMin = type == .q5_1
        let stride = hasMin ? 24 : 22
        for b in 0..<blocks {
            let p = base + b * stride, y = dst + b * 32
            let d = halfToFloat(p, 0)
            let m = hasMin ? halfToFloat(p, 2) : 0
            let qhOffset = hasMin ? 4 : 2
            let qh = p.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self).littleEndian
            let qs = (p + qhOffset + 4).assumingMemoryBound(to: UInt8.self)
            let bias = hasMin ? 0 : 16
            for j in 0..<16 {
                let h0 = Int((qh >> UInt32(j)) << 4) & 0x10
                let h1 = Int(qh >> UInt32(j + 12)) & 0x10
                y[j] = Float((Int(qs[j] & 0x0F) | h0) - bias) * d + m
                y[j + 16] = Float((Int(qs[j] >> 4) | h1) - bias) * d + m
            }
        }
    case .q8_0:
        for b in 0..<blocks {
            let p = base + b * 34, y = dst + b * 32
            let d = halfToFloat(p, 0)
            let qs = (p + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { y[j] = Float(qs[j]) * d }
        }
    case .q4_K, .q5_K:
        let isQ5 = type == .q5_K
        let stride = type.blockBytes
        for b in 0..<blocks {
            let p = base + b * stride
            var y = dst + b * 256
            let d = halfToFloat(p, 0), dmin = halfToFloat(p, 2)
            let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
            let qh = (p + 16).assumingMemoryBound(to: UInt8.self)  // Q5_K only
            var ql = (p + (isQ5 ? 48 : 16)).assumingMemoryBound(to: UInt8.self)
            var u1: UInt8 = 1, u2: UInt8 = 2
            for group in 0..<4 {
                let (sc1, m1) = scaleMinK4(2 * group, scales)
                let (sc2, m2) = scaleMinK4(2 * group + 1, scales)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                for l in 0..<32 {
                    let high: UInt8 = isQ5 && qh[l] & u1 != 0 ? 16 : 0
                    y[l] = d1 * Float((ql[l] & 0x0F) + high) - min1
                }
                for l in 0..<32 {
                    let high: UInt8 = isQ5 && qh[l] & u2 != 0 ? 16 : 0
                    y[l + 32] = d2 * Float((ql[l] >> 4) + high) - min2
                }
                y += 64
                ql += 32
                u1 <<= 2
                u2 <<= 2
            }
        }
    case .q6_K:
        for b in 0..<blocks {
            let p = base + b * 210
            var y = dst + b * 256
            var ql = p.assumingMemoryBound(to: UInt8.self)
            var qh = (p + 128).assumingMemoryBound(to: UInt8.self)
            var sc = (p + 192).assumingMemoryBound(to: Int8.self)
            let d = halfToFloat(p, 208)
            for _ in 0..<2 {
                for l in 0..<32 {
                    let s = l / 16
                    let q1 = Int((ql[l] & 0x0F) | ((qh[l] >> 0) & 3) << 4) - 32
                    let q2 = Int((ql[l + 32] & 0x0F) | ((qh[l] >> 2) & 3) << 4) - 32
                    let q3 = Int((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32
                    let q4 = Int((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32
                    y[l] = d * Float(sc[s]) * Float(q1)
                    y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                    y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                    y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
                }
                y += 128
                ql += 64
                qh += 32
                sc += 8
            }
        }
    }
}

/// The 6-bit scale and min of sub-block `j` of a Q4_K/Q5_K super-block (ggml's get_scale_min_k4).
@inline(__always)
private func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (UInt8, UInt8) {
    if j < 4 {
        return (q[j] & 63, q[j + 4] & 63)
    }
    return ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
}
