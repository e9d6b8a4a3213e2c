// A text file held in memory (mapped where the system allows) and walked line by line as
// raw bytes, with 1-based line numbers for error messages. Handles LF and CRLF line ends and
// Latin-1 or UTF-8 text. Not a general CSV parser: see DelimitedText for quoted fields.
import Foundation
import Support

public enum TextEncoding: String, Sendable, CaseIterable, Codable {
    /// UTF-8 when the whole file is valid UTF-8, else Latin-1 (the original MovieLens files).
    case auto
    case utf8
    case latin1
}

public struct TextFile {
    public let path: String
    public let bytes: Data
    /// The encoding used to turn field bytes into strings (never `.auto` after loading).
    public let encoding: TextEncoding

    public init(path: String, encoding: TextEncoding = .auto) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError.fileMissing(path: path, hint: "Check the path.")
        }
        guard !isDirectory.boolValue else {
            throw DataError.unreadable(path: path, reason: "it is a directory, expected a file")
        }
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw DataError.unreadable(path: path, reason: error.localizedDescription)
        }
        if bytes.starts(with: [0x1F, 0x8B]) {
            throw DataError.unreadable(
                path: path, reason: "it is gzip-compressed; decompress it first (gunzip -k \(path))")
        }
        switch encoding {
        case .auto:
            self.encoding = bytes.withUnsafeBytes { isValidUTF8(UnsafeRawBufferPointer($0)) } ? .utf8 : .latin1
        default:
            self.encoding = encoding
        }
    }

    /// Calls `body(lineNumber, line)` for each line, without its line end. A UTF-8 byte-order
    /// mark at the start is skipped. Stops early when `body` returns false. With `progress`,
    /// a bar named after the file shows how far through it the reading is.
    public func forEachLine(progress: Bool = false, _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Bool) rethrows {
        let bar = progress && bytes.count > 8_000_000
            ? ProgressBar(label: "reading \((path as NSString).lastPathComponent)", total: bytes.count, unit: .bytes) : nil
        defer { bar?.finish() }
        try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let all = raw.bindMemory(to: UInt8.self)
            let n = all.count
            var start = 0
            if n >= 3, all[0] == 0xEF, all[1] == 0xBB, all[2] == 0xBF { start = 3 }
            var lineNumber = 0
            while start < n {
                lineNumber += 1
                var end = start
                if let nl = memchr(all.baseAddress! + start, 0x0A, n - start) {
                    end = all.baseAddress!.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                } else {
                    end = n
                }
                var stop = end
                if stop > start, all[stop - 1] == 0x0D { stop -= 1 }
                let line = UnsafeBufferPointer(rebasing: all[start..<stop])
                if let bar, lineNumber & 0xFFFF == 0 { bar.update(start) }
                if try !body(lineNumber, line) { return }
                start = end + 1
            }
        }
    }

    /// Turns field bytes into a String in this file's encoding.
    @inline(__always)
    public func string(_ field: UnsafeBufferPointer<UInt8>) -> String {
        decodeText(field, encoding)
    }
}

@inline(__always)
func decodeText(_ field: UnsafeBufferPointer<UInt8>, _ encoding: TextEncoding) -> String {
    if encoding == .latin1, field.contains(where: { $0 >= 0x80 }) {
        // Latin-1 maps each byte to the Unicode scalar of the same value.
        var scalars = String.UnicodeScalarView()
        for b in field { scalars.append(Unicode.Scalar(b)) }
        return String(scalars)
    }
    return String(decoding: field, as: UTF8.self)
}

/// Strict UTF-8 validation (rejects overlong forms, surrogates and values past U+10FFFF).
func isValidUTF8(_ buffer: UnsafeRawBufferPointer) -> Bool {
    let b = buffer.bindMemory(to: UInt8.self)
    var i = 0
    let n = b.count
    while i < n {
        // Skip ASCII eight bytes at a time.
        if i + 8 <= n, buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
            continue
        }
        let c = b[i]
        if c < 0x80 { i += 1; continue }
        var need = 0
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return false
        }
        guard i + need < n else { return false }  // truncated sequence at the end
        if b[i + 1] < lo || b[i + 1] > hi { return false }
        var k = 2
        while k <= need {
            if b[i + k] < 0x80 || b[i + k] > 0xBF { return false }
            k += 1
        }
        i += need + 1
    }
    return true
}

/// Splits `line` on a one- or two-byte separator (tab, comma, "|", "::"), without quoting.
@inline(__always)
func splitFields(_ line: UnsafeBufferPointer<UInt8>, separator: [UInt8], into fields: inout [UnsafeBufferPointer<UInt8>]) {
    fields.removeAll(keepingCapacity: true)
    let n = line.count
    var start = 0
    var i = 0
    let s0 = separator[0]
    let width = separator.count
    while i < n {
        if line[i] == s0, width == 1 || (i + 1 < n && line[i + 1] == separator[1]) {
            fields.append(UnsafeBufferPointer(rebasing: line[start..<i]))
            i += width
            start = i
        } else {
            i += 1
        }
    }
    fields.append(UnsafeBufferPointer(rebasing: line[start..<n]))
}
