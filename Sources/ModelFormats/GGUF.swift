// GGUF v2/v3 (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): header, metadata
// of every value type, tensor infos and the aligned data section, read from a memory map.
// Every length, count and offset is checked against the file before it is used, in the way
// of llama.cpp's gguf.cpp. Tensors are dequantised to Float32 on request (GGMLQuants.swift).
import Foundation
import Support

public enum GGUFValue: Sendable, Equatable {
    case uint(UInt64)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case strings([String])
    case uints([UInt64])
    case ints([Int64])
    case floats([Double])
    case bools([Bool])
    /// Arrays of arrays are allowed by the format; kept as a list of values.
    case arrays([GGUFValue])

    public var intValue: Int? {
        switch self {
        case .uint(let v): return Int(exactly: v)
        case .int(let v): return Int(exactly: v)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .float(let v): return v
        case .uint(let v): return Double(v)
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
}

public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// ggml order: dims[0] is the innermost (contiguous) dimension.
    public let dims: [Int]
    public let type: GGMLType
    /// Absolute byte offset in the file.
    public let offset: Int
    public let byteCount: Int
    public var elementCount: Int { dims.reduce(1, *) }
}

public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    let map: MappedFile
    private let tensorIndex: [String: Int]

    public static let magic: UInt32 = 0x4655_4747  // "GGUF" read little-endian

    public init(path: String) throws {
        self.path = path
        map = try MappedFile(path: path)
        var c = ByteCursor(file: map, offset: 0)
        let magic = try c.read(UInt32.self, "the magic")
        guard magic == Self.magic else {
            let chars = withUnsafeBytes(of: magic.littleEndian) { String(decoding: $0.map { $0 >= 32 && $0 < 127 ? $0 : 63 }, as: UTF8.self) }
            throw FormatError.invalid(path: path, what: "invalid magic characters '\(chars)'", expected: "'GGUF' (is this a GGUF file?)")
        }
        version = try c.read(UInt32.self, "the version")
        guard version == 2 || version == 3 else {
            let hint = version > 0xFFFF ? " (a big-endian file? only little-endian is read)" : ""
            throw FormatError.unsupported(path: path, what: "GGUF version \(version)\(hint)", supported: "versions 2 and 3")
        }
        // Each tensor info takes at least 24 bytes and each key/value at least 12.
        let tensorCount = try c.readCount("the tensor count", minBytes: 24)
        let kvCount = try c.readCount("the metadata count", minBytes: 12)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for k in 0..<kvCount {
            let key = try c.readString("metadata key \(k)")
            guard metadata[key] == nil else {
                throw FormatError.invalid(path: path, what: "duplicate metadata key \(quoted(key))", expected: "unique keys")
            }
            let type = try c.read(UInt32.self, "the type of \(quoted(key))")
            metadata[key] = try Self.readValue(&c, type: type, key: key, depth: 0)
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        let align = metadata["general.alignment"]?.intValue ?? 32
        guard align > 0, align & (align - 1) == 0 else {
            throw FormatError.invalid(path: path, what: "general.alignment is \(align)", expected: "a power of 2")
        }
        alignment = align

        var infos: [(name: String, dims: [Int], type: GGMLType, relative: Int)] = []
        var names: [String: Int] = [:]
        for t in 0..<tensorCount {
            let name = try c.readString("the name of tensor \(t)")
            guard names[name] == nil else {
                throw FormatError.invalid(path: path, what: "duplicate tensor name \(quoted(name))", expected: "unique tensor names")
            }
            let nDims = try c.read(UInt32.self, "the dimension count of \(quoted(name))")
            guard (1...4).contains(nDims) else {
                throw FormatError.invalid(path: path, what: "tensor \(quoted(name)) has \(nDims) dimensions", expected: "1 to 4")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let n = try c.read(UInt64.self, "dimension \(d) of \(quoted(name))")
                guard n > 0, n < UInt64(Int32.max) else {
                    throw FormatError.invalid(path: path, what: "tensor \(quoted(name)) has dimension \(d) of size \(n)", expected: "1 to 2^31")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(n))
                guard !overflow, product < 1 << 40 else {
                    throw FormatError.invalid(path: path, what: "tensor \(quoted(name)) has too many elements", expected: "under 2^40")
                }
                elements = product
                dims.append(Int(n))
            }
            let rawType = try c.read(UInt32.self, "the type of \(quoted(name))")
            guard let type = GGMLType(rawValue: rawType) else {
                throw FormatError.unsupported(path: path, what: "tensor \(quoted(name)) of ggml type \(rawType)",
                                              supported: GGMLType.allCases.map(\.name).joined(separator: ", "))
            }
            guard dims[0] % type.blockSize == 0 else {
                throw FormatError.invalid(path: path, what: "tensor \(quoted(name)) has rows of \(dims[0]) values",
                                          expected: "a multiple of the \(type.name) block size \(type.blockSize)")
            }
            let relative = try c.read(UInt64.self, "the offset of \(quoted(name))")
            guard relative < UInt64(Int.max / 2) else {
                throw FormatError.invalid(path: path, what: "tensor \(quoted(name)) has offset \(relative)", expected: "an offset inside the file")
            }
            names[name] = infos.count
            infos.append((name, dims, type, Int(relative)))
        }

        let dataStart = (c.offset + align - 1) / align * align
        var tensors: [GGUFTensorInfo] = []
        var expectedOffset = 0
        for info in infos {
            let bytes = info.dims.reduce(1, *) / info.type.blockSize * info.type.blockBytes
            guard info.relative % align == 0 else {
                throw FormatError.invalid(path: path, what: "tensor '\(info.name)' has offset \(info.relative)",
                                          expected: "a multiple of the alignment \(align)")
            }
            guard info.relative >= expectedOffset else {
                throw FormatError.invalid(path: path, what: "tensor '\(info.name)' has offset \(info.relative), overlapping the tensor before it",
                                          expected: "at least \(expectedOffset)")
            }
            let absolute = dataStart + info.relative
            guard absolute + bytes <= map.size else {
                throw FormatError.truncated(path: path, offset: absolute, need: bytes, have: max(0, map.size - absolute),
                                            what: "the data of tensor '\(info.name)'")
            }
            expectedOffset = (info.relative + bytes + align - 1) / align * align
            tensors.append(GGUFTensorInfo(name: info.name, dims: info.dims, type: info.type, offset: absolute, byteCount: bytes))
        }
        self.tensors = tensors
        tensorIndex = names
    }

    private static func readValue(_ c: inout ByteCursor, type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint(UInt64(try c.read(UInt8.self, key)))
        case 1: return .int(Int64(try c.read(Int8.self, key)))
        case 2: return .uint(UInt64(try c.read(UInt16.self, key)))
        case 3: return .int(Int64(try c.read(Int16.self, key)))
        case 4: return .uint(UInt64(try c.read(UInt32.self, key)))
        case 5: return .int(Int64(try c.read(Int32.self, key)))
        case 6: return .float(Double(try c.readFloat(key)))
        case 7:
            let b = try c.read(UInt8.self, key)
            guard b <= 1 else { throw FormatError.invalid(path: c.file.path, what: "\(quoted(key)) holds bool \(b)", expected: "0 or 1") }
            return .bool(b == 1)
        case 8: return .string(try c.readString(key))
        case 10: return .uint(try c.read(UInt64.self, key))
        case 11: return .int(try c.read(Int64.self, key))
        case 12: return .float(try c.readDouble(key))
        case 9:
            guard depth < 4 else {
                throw FormatError.invalid(path: c.file.path, what: "\(quoted(key)) nests arrays \(depth + 1) deep", expected: "at most 4")
            }
            let elementType = try c.read(UInt32.self, "the element type of \(quoted(key))")
            let minBytes: Int = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8][elementType] ?? 1
            let n = try c.readCount("the length of \(quoted(key))", minBytes: minBytes)
            switch elementType {
            case 8:
                var out: [String] = []
                out.reserveCapacity(n)
                for i in 0..<n { out.append(try c.readString("element \(i) of \(quoted(key))")) }
                return .strings(out)
            case 6, 12:
                var out = [Double]()
                out.reserveCapacity(n)
                for _ in 0..<n { out.append(elementType == 6 ? Double(try c.readFloat(key)) : try c.readDouble(key)) }
                return .floats(out)
            case 0, 2, 4, 10:
                var out = [UInt64]()
                out.reserveCapacity(n)
                for _ in 0..<n {
                    switch elementType {
                    case 0: out.append(UInt64(try c.read(UInt8.self, key)))
                    case 2: out.append(UInt64(try c.read(UInt16.self, key)))
                    case 4: out.append(UInt64(try c.read(UInt32.self, key)))
                    default: out.append(try c.read(UInt64.self, key))
                    }
                }
                return .uints(out)
            case 1, 3, 5, 11:
                var out = [Int64]()
                out.reserveCapacity(n)
                for _ in 0..<n {
                    switch elementType {
                    case 1: out.append(Int64(try c.read(Int8.self, key)))
                    case 3: out.append(Int64(try c.read(Int16.self, key)))
                    case 5: out.append(Int64(try c.read(Int32.self, key)))
                    default: out.append(try c.read(Int64.self, key))
                    }
                }
                return .ints(out)
            case 7:
                var out = [Bool]()
                for _ in 0..<n { out.append(try c.read(UInt8.self, key) != 0) }
                return .bools(out)
            case 9:
                var out: [GGUFValue] = []
                for _ in 0..<n { out.append(try readValue(&c, type: 9, key: key, depth: depth + 1)) }
                return .arrays(out)
            default:
                throw FormatError.invalid(path: c.file.path, what: "\(quoted(key)) has array element type \(elementType)", expected: "a GGUF value type 0 to 12")
            }
        default:
            throw FormatError.invalid(path: c.file.path, what: "\(quoted(key)) has value type \(type)", expected: "a GGUF value type 0 to 12")
        }
    }

    public func tensor(_ name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The raw bytes of a tensor, inside the map.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: map.base + tensor.offset, count: tensor.byteCount)
    }

    /// A tensor dequantised to Float32, in ggml order (dims[0] contiguous).
    public func floats(_ tensor: GGUFTensorInfo) -> [Float] {
        [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, count in
            dequantize(tensor.type, bytes(of: tensor), into: buffer.baseAddress!, count: tensor.elementCount)
            count = tensor.elementCount
        }
    }

    // Typed metadata access with errors that name the key.
    public func string(_ key: String) throws -> String {
        guard let v = metadata[key]?.stringValue else { throw missingKey(key, "a string") }
        return v
    }
    public func int(_ key: String) throws -> Int {
        guard let v = metadata[key]?.intValue else { throw missingKey(key, "an integer") }
        return v
    }
    public func double(_ key: String) throws -> Double {
        guard let v = metadata[key]?.doubleValue else { throw missingKey(key, "a number") }
        return v
    }
    public func strings(_ key: String) throws -> [String] {
        guard case .strings(let v)? = metadata[key] else { throw missingKey(key, "an array of strings") }
        return v
    }
    private func missingKey(_ key: String, _ kind: String) -> FormatError {
        metadata[key] == nil
            ? .missing(path: path, what: "metadata key \(quoted(key))", hint: "Expected \(kind).")
            : .invalid(path: path, what: "metadata key \(quoted(key)) has another type", expected: kind)
    }
}
