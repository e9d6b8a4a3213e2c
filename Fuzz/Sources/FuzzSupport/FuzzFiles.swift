// What every fuzz target shares: the input written as the files a parser reads (in a private
// directory on tmpfs where there is one), and an input split into several files.
import Foundation

public enum FuzzFiles {
    /// This process's scratch directory, made once.
    public static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        let dir = base.appendingPathComponent("llmrec-fuzz-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes `files` (name → bytes) into the scratch directory, replacing what was there.
    @discardableResult
    public static func write(_ files: [(name: String, bytes: Data)]) -> URL {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(entry))
        }
        for file in files { FileManager.default.createFile(atPath: directory.appendingPathComponent(file.name).path, contents: file.bytes) }
        return directory
    }

    /// The input's bytes.
    public static func bytes(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Data {
        guard let start, count > 0 else { return Data() }
        return Data(bytes: start, count: count)
    }

    /// The input cut into two files at its first `separator` line ("\n@@\n"): interactions, then
    /// items. Without one, the whole input is the first file and the second is empty.
    public static func split(_ data: Data) -> (Data, Data) {
        guard let range = data.range(of: Data("\n@@\n".utf8)) else { return (data, Data()) }
        return (data[..<range.lowerBound] + Data("\n".utf8), Data(data[range.upperBound...]))
    }
}
