// Writing .safetensors files: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {…}} padded with spaces to a multiple of
// 8 bytes, then the tensors' bytes back to back in header order. Float32 only: exports carry
// the trained master weights unrounded. Written to a temporary file and renamed into place, so a
// failure never leaves half a file under the final name.
import Foundation
import Support

public struct SafetensorsEntry {
    public let name: String
    public let shape: [Int]
    public let data: UnsafePointer<Float>

    public init(name: String, shape: [Int], data: UnsafePointer<Float>) {
        self.name = name
        self.shape = shape
        self.data = data
    }
}

extension Safetensors {
    public static func write(_ tensors: [SafetensorsEntry], metadata: [String: String] = ["format": "pt"], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for t in tensors {
            let bytes = t.shape.reduce(1, *) * 4
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString.prefix(8))")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw FormatError.invalid(path: temp.path, what: "cannot create the file", expected: "a writable directory")
        }
        InterruptCleanup.register(temp)
        defer { InterruptCleanup.unregister(temp) }
        do {
            let handle = try FileHandle(forWritingTo: temp)
            defer { try? handle.close() }
            var length = UInt64(json.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: json)
            for t in tensors {
                try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: t.data), count: t.shape.reduce(1, *) * 4,
                                                  deallocator: .none))
            }
            try handle.synchronize()
            guard rename(temp.path, url.path) == 0 else {
                throw FormatError.invalid(path: url.path, what: "cannot move the finished file into place (errno \(errno))",
                                          expected: "a writable directory")
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
    }
}
