// Writes a whole output directory or nothing: files go into a hidden temporary sibling,
// which is renamed over the destination only once everything is written.
// Not a transaction across machines; rename(2) is atomic on one file system.
import Foundation

public enum AtomicWriteError: Error, CustomStringConvertible {
    case destinationExists(String)
    case unsafeDestination(String, reason: String)
    case cannotCreate(String, reason: String)
    case cannotWrite(String, reason: String)

    public var description: String {
        switch self {
        case .destinationExists(let path):
            return "\(path) already exists and is not empty; pass --force to replace it, or choose another --out"
        case .unsafeDestination(let path, let reason):
            return "refusing to write to \(path.isEmpty ? "an empty path" : path): \(reason); choose another --out"
        case .cannotCreate(let path, let reason):
            return "cannot create \(path): \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

/// What may be replaced: an output directory is never the working directory, the root, one of
/// the command's inputs or a directory above them, and an existing non-empty one is replaced
/// only when it holds `marker` (a file llmrec writes there, so that --force cannot delete a
/// directory llmrec did not make).
public struct ReplaceRule: Sendable {
    public var marker: String
    public var inputs: [String]
    public init(marker: String, inputs: [String] = []) {
        self.marker = marker
        self.inputs = inputs
    }

    /// Throws when writing (or replacing) `destination` could delete what it must not.
    public func check(_ destination: URL, rawPath: String? = nil) throws {
        let fm = FileManager.default
        let path = destination.standardizedFileURL.resolvingSymlinksInPath().path
        if let raw = rawPath, raw.trimmingCharacters(in: .whitespaces).isEmpty {
            throw AtomicWriteError.unsafeDestination("", reason: "the output path is empty")
        }
        func isSameOrAbove(_ other: String) -> Bool {
            let o = URL(fileURLWithPath: other).standardizedFileURL.resolvingSymlinksInPath().path
            return o == path || o.hasPrefix(path.hasSuffix("/") ? path : path + "/")
        }
        if path == "/" { throw AtomicWriteError.unsafeDestination(path, reason: "it is the root directory") }
        if isSameOrAbove(fm.currentDirectoryPath) {
            throw AtomicWriteError.unsafeDestination(path, reason: "it is the working directory or holds it")
        }
        if let input = inputs.first(where: isSameOrAbove) {
            throw AtomicWriteError.unsafeDestination(path, reason: "it is or holds an input of this command (\(input))")
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw AtomicWriteError.unsafeDestination(path, reason: "it is a file, not a directory") }
            let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            if !contents.isEmpty, !contents.contains(marker) {
                throw AtomicWriteError.unsafeDestination(path, reason: "it is not empty and has no \(marker), so llmrec did not write it")
            }
        }
    }
}

/// A directory being written. Call `commit()` to move it into place; if the
/// writer throws before that, `discard()` removes the partial output.
public struct AtomicDirectory: Sendable {
    public let destination: URL
    public let staging: URL

    /// - Parameter replace: when false, an existing non-empty destination is an error; when true,
    ///   `rule` (when given) decides whether it may be replaced.
    public init(destination: URL, replace: Bool, rule: ReplaceRule? = nil) throws {
        let fm = FileManager.default
        if replace { try rule?.check(destination) }
        self.destination = destination.standardizedFileURL
        if fm.fileExists(atPath: self.destination.path), !replace {
            let contents = (try? fm.contentsOfDirectory(atPath: self.destination.path)) ?? ["?"]
            if !contents.isEmpty { throw AtomicWriteError.destinationExists(self.destination.path) }
        }
        let parent = self.destination.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw AtomicWriteError.cannotCreate(parent.path, reason: error.localizedDescription)
        }
        Self.removeStale(of: self.destination)
        let token = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        staging = parent.appendingPathComponent(".\(self.destination.lastPathComponent).tmp-\(token)")
        // Registered first, so that an interrupt at any moment after this finds it.
        InterruptCleanup.register(staging)
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            InterruptCleanup.unregister(staging)
            throw AtomicWriteError.cannotCreate(staging.path, reason: error.localizedDescription)
        }
    }

    /// The path of `name` inside the staging directory.
    public func file(_ name: String) -> URL { staging.appendingPathComponent(name) }

    /// Moves the staged directory to the destination, replacing what was there.
    public func commit() throws {
        let fm = FileManager.default
        defer { InterruptCleanup.unregister(staging) }
        if fm.fileExists(atPath: destination.path) {
            // Move the old one aside first so that a failure leaves one complete directory.
            let old = staging.deletingLastPathComponent()
                .appendingPathComponent(".\(destination.lastPathComponent).old-\(UInt32.random(in: 0...UInt32.max))")
            do {
                try fm.moveItem(at: destination, to: old)
                try fm.moveItem(at: staging, to: destination)
                try? fm.removeItem(at: old)
            } catch {
                throw AtomicWriteError.cannotWrite(destination.path, reason: error.localizedDescription)
            }
        } else {
            do {
                try fm.moveItem(at: staging, to: destination)
            } catch {
                throw AtomicWriteError.cannotWrite(destination.path, reason: error.localizedDescription)
            }
        }
    }

    /// Removes what a killed writer of `destination` left beside it: staging directories
    /// (`.NAME.tmp-PID-…`) whose process is gone. A writer that is still running keeps its own.
    public static func removeStale(of destination: URL) {
        let fm = FileManager.default
        let parent = destination.deletingLastPathComponent()
        let prefix = ".\(destination.lastPathComponent).tmp-"
        guard let entries = try? fm.contentsOfDirectory(atPath: parent.path) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let pid = entry.dropFirst(prefix.count).split(separator: "-").first.flatMap { Int32($0) }
            if let pid, pid == ProcessInfo.processInfo.processIdentifier || kill(pid, 0) == 0 { continue }
            try? fm.removeItem(at: parent.appendingPathComponent(entry))
        }
    }

    /// Removes the partial output.
    public func discard() {
        try? FileManager.default.removeItem(at: staging)
        InterruptCleanup.unregister(staging)
    }

    /// Runs `body` to fill the directory, then commits; on any error discards and rethrows.
    public static func write(
        to destination: URL, replace: Bool, rule: ReplaceRule? = nil, _ body: (AtomicDirectory) throws -> Void
    ) throws {
        let dir = try AtomicDirectory(destination: destination, replace: replace, rule: rule)
        do {
            try body(dir)
            try dir.commit()
        } catch {
            dir.discard()
            throw error
        }
    }
}

/// Writes one file atomically (temporary sibling + rename).
public func writeFileAtomically(_ data: Data, to url: URL) throws {
    do {
        try data.write(to: url, options: .atomic)
    } catch {
        throw AtomicWriteError.cannotWrite(url.path, reason: error.localizedDescription)
    }
}
