// A cheap content fingerprint of a file or directory, written into a run's config so that a
// resume can tell whether the model or the data changed. Not cryptographic: FNV-1a over the
// size and 16 evenly spaced 64 KiB samples of each file (whole files when small).
import Foundation

public func fingerprint(_ path: String) -> String {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return "missing" }
    var files: [String] = [path]
    if isDirectory.boolValue {
        files = ((try? fm.subpathsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
            .filter { var d: ObjCBool = false; return fm.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
    }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
    }
    for file in files {
        guard let handle = FileHandle(forReadingAtPath: file) else { continue }
        defer { try? handle.close() }
        let size = (try? fm.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        mix(withUnsafeBytes(of: UInt64(size).littleEndian) { Array($0) })
        let sample = 65_536
        let offsets = size <= 16 * sample ? [0] : (0..<16).map { $0 * (size - sample) / 15 }
        for o in offsets {
            try? handle.seek(toOffset: UInt64(o))
            mix(handle.readData(ofLength: size <= 16 * sample ? size : sample))
        }
    }
    return String(format: "%016llx", hash)
}
