// Writes a whole output directory or nothing: files go into a hidden temporary sibling,
// which is renamed over the destination only once everything is written.
// Not a transaction across machines; rename(2) is atomic on one file system.
import Foundation

public enum AtomicWriteError: Error, CustomStringConvertible {
    case destinationExists(String)
    case cannotCreate(String, reason: String)
    case cannotWrite(String, reason: String)

    public var description: String {
        switch self {
        case .destinationExists(let path):
            return "\(path) already exists and is not empty; pass --force to replace it, or choose another --out"
        case .cannotCreate(let path, let reason):
            return "cannot create \(path): \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

/// A directory being written. Call `commit()` to move it into place; if the
/// writer throws before that, `discard()` removes the partial output.
public struct AtomicDirectory: Sendable {
    public let destination: URL
    public let staging: URL

    /// - Parameter replace: when false, an existing non-empty destination is an error.
    public init(destination: URL, replace: Bool) throws {
        let fm = FileManager.default
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
        let token = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        staging = parent.appendingPathComponent(".\(self.destination.lastPathComponent).tmp-\(token)")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw AtomicWriteError.cannotCreate(staging.path, reason: error.localizedDescription)
        }
    }

    /// The path of `name` inside the staging directory.
    public func file(_ name: String) -> URL { staging.appendingPathComponent(name) }

    /// Moves the staged directory to the destination, replacing what was there.
    public func commit() throws {
        let fm = FileManager.default
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

    /// Removes the partial output.
    public func discard() {
        try? FileManager.default.removeItem(at: staging)
    }

    /// Runs `body` to fill the directory, then commits; on any error discards and rethrows.
    public static func write(
        to destination: URL, replace: Bool, _ body: (AtomicDirectory) throws -> Void
    ) throws {
        let dir = try AtomicDirectory(destination: destination, replace: replace)
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
