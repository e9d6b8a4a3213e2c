// A read-only memory map of a whole file, and a cursor over it that checks every read
// against the bytes that remain. Model files are read through views into the map: the
// weights are never copied before dequantisation.
import Foundation

public enum FormatError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case truncated(path: String, offset: Int, need: Int, have: Int, what: String)
    case invalid(path: String, what: String, expected: String)
    case unsupported(path: String, what: String, supported: String)
    case missing(path: String, what: String, hint: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "\(path): cannot open: \(reason)"
        case .truncated(let path, let offset, let need, let have, let what):
            return "\(path): truncated or corrupt: reading \(what) at byte \(offset) needs \(need) bytes, only \(have) remain"
        case .invalid(let path, let what, let expected):
            return "\(path): \(what); expected \(expected)"
        case .unsupported(let path, let what, let supported):
            return "\(path): \(what) is not supported; supported: \(supported)"
        case .missing(let path, let what, let hint):
            return "\(path): \(what) is missing. \(hint)"
        }
    }
}

/// The mapping; unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let size: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw FormatError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw FormatError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw FormatError.cannotOpen(path: path, reason: "not a regular file")
        }
        size = Int(st.st_size)
        guard size > 0 else { throw FormatError.truncated(path: path, offset: 0, need: 4, have: 0, what: "the header") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw FormatError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}

/// A little-endian cursor that never reads past the end.
struct ByteCursor {
    let file: MappedFile
    var offset: Int

    var remaining: Int { file.size - offset }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw FormatError.truncated(path: file.path, offset: offset, need: n, have: remaining, what: what())
        }
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        let v = file.base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A count stored as UInt64, checked to fit in memory terms (each element takes at least `minBytes`).
    mutating func readCount(_ what: @autoclosure () -> String, minBytes: Int) throws -> Int {
        let start = offset
        let n = try read(UInt64.self, what())
        guard n <= UInt64(Int.max / max(minBytes, 1)), Int(n) * minBytes <= remaining else {
            // The bytes the count needs, saturated: a damaged count must not print as a wrapped product.
            let (need, overflow) = Int(clamping: n).multipliedReportingOverflow(by: max(minBytes, 1))
            throw FormatError.truncated(path: file.path, offset: start, need: overflow ? Int.max : need,
                                        have: remaining, what: "\(what()) (count \(n))")
        }
        return Int(n)
    }

    /// A string: UInt64 length, then that many UTF-8 bytes.
    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let n = try readCount(what(), minBytes: 1)
        // GGUF strings are UTF-8; a damaged one is reported, not silently repaired.
        guard let s = String(validating: UnsafeRawBufferPointer(start: file.base + offset, count: n), as: UTF8.self) else {
            throw FormatError.invalid(path: file.path, what: "\(what()) is not valid UTF-8 (at byte \(offset))", expected: "UTF-8 text")
        }
        offset += n
        return s
    }
}
