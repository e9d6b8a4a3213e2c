// safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": …},
// then the data. Sharded checkpoints list their files in model.safetensors.index.json.
// Every range is checked against the file and against the dtype and shape before use.
import Foundation
import Support

public enum SafetensorsDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"

    var size: Int { self == .f32 ? 4 : 2 }
    var ggml: GGMLType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        }
    }
}

public struct SafetensorsTensor: Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Absolute byte range in `file`.
    public let offset: Int
    public let byteCount: Int
    public let file: MappedFile

    public var elementCount: Int { shape.reduce(1, *) }

    /// The values as Float32, into `dst` (elementCount floats).
    public func read(into dst: UnsafeMutablePointer<Float>) {
        dequantize(dtype.ggml, UnsafeRawBufferPointer(start: file.base + offset, count: byteCount), into: dst, count: elementCount)
    }
}

public enum Safetensors {
    /// The tensors of one .safetensors file.
    public static func read(path: String) throws -> [String: SafetensorsTensor] {
        let file = try MappedFile(path: path)
        var c = ByteCursor(file: file, offset: 0)
        let headerLength = try c.read(UInt64.self, "the header length")
        guard headerLength <= UInt64(c.remaining), headerLength < 100_000_000 else {
            throw FormatError.truncated(path: path, offset: 8, need: Int(clamping: headerLength), have: c.remaining, what: "the JSON header")
        }
        let headerData = Data(bytes: file.base + 8, count: Int(headerLength))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw FormatError.invalid(path: path, what: "the header is not a JSON object", expected: "a safetensors file")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.size - dataStart
        var out: [String: SafetensorsTensor] = [:]
        var ranges: [(Int, Int, String)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw FormatError.invalid(path: path, what: "header entry \(quoted(name))", expected: "{dtype, shape, data_offsets: [begin, end]}")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw FormatError.unsupported(path: path, what: "tensor \(quoted(name)) of dtype \(quoted(dtypeName))", supported: "F32, F16, BF16")
            }
            guard shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else {
                throw FormatError.invalid(path: path, what: "tensor \(quoted(name)) has shape \(shape)", expected: "dimensions in 0..<2^31")
            }
            let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= dataSize else {
                throw FormatError.truncated(path: path, offset: dataStart + max(begin, 0), need: max(end - begin, 0),
                                            have: max(0, dataSize - begin), what: "the data of tensor \(quoted(name))")
            }
            guard count < Int.max / dtype.size, end - begin == count * dtype.size else {
                throw FormatError.invalid(path: path, what: "tensor \(quoted(name)) holds \(end - begin) bytes",
                                          expected: "\(shape) × \(dtype.size) bytes")
            }
            ranges.append((begin, end, name))
            out[name] = SafetensorsTensor(name: name, dtype: dtype, shape: shape, offset: dataStart + begin,
                                          byteCount: end - begin, file: file)
        }
        ranges.sort { $0.0 < $1.0 }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.0 < a.1 {
            throw FormatError.invalid(path: path, what: "tensors '\(a.2)' and '\(b.2)' overlap", expected: "disjoint data ranges")
        }
        return out
    }

    /// All tensors of a Hugging Face model directory: model.safetensors, or the shards its index lists.
    public static func readDirectory(_ dir: URL) throws -> [String: SafetensorsTensor] {
        let fm = FileManager.default
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        if fm.fileExists(atPath: index.path) {
            guard let data = try? Data(contentsOf: index),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let map = json["weight_map"] as? [String: String]
            else {
                throw FormatError.invalid(path: index.path, what: "no weight_map", expected: "{\"weight_map\": {tensor: file}}")
            }
            var out: [String: SafetensorsTensor] = [:]
            for shard in Set(map.values).sorted() {
                guard !shard.contains("/") else {
                    throw FormatError.invalid(path: index.path, what: "shard name '\(shard)'", expected: "a file name in the same directory")
                }
                let tensors = try read(path: dir.appendingPathComponent(shard).path)
                for (name, t) in tensors {
                    guard out[name] == nil else {
                        throw FormatError.invalid(path: index.path, what: "tensor \(quoted(name)) is in more than one shard", expected: "each tensor once")
                    }
                    out[name] = t
                }
            }
            for (name, shard) in map where out[name] == nil {
                throw FormatError.missing(path: dir.appendingPathComponent(shard).path, what: "tensor \(quoted(name))",
                                          hint: "The index lists it in this shard.")
            }
            return out
        }
        let single = dir.appendingPathComponent("model.safetensors")
        guard fm.fileExists(atPath: single.path) else {
            throw FormatError.missing(path: dir.path, what: "model.safetensors (or model.safetensors.index.json)",
                                      hint: "A Hugging Face model directory holds its weights in safetensors files.")
        }
        return try read(path: single.path)
    }
}
