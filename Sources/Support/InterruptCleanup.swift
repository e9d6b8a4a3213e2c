// Temporary outputs being written — staging directories, temporary files — are removed when the
// process is interrupted (SIGINT, SIGTERM), so that a stopped command leaves nothing
// half-written behind (a staging checkpoint of a full fine-tune is 1.6 GB). A kill -9 cannot be
// caught; the next writer of the same output removes what it left (AtomicDirectory.removeStale).
// A long job can ask to stop gracefully instead: the first signal then only requests a stop,
// which the job honours at its next safe point (a training step saves a checkpoint there, so
// no steps are lost); a second signal stops at once as above.
import Dispatch
import Foundation
import Synchronization

public enum InterruptCleanup {
    private static let paths = Mutex<Set<String>>([])
    private nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    private static let installed = Mutex(false)
    private static let graceful = Mutex(false)
    private static let requested = Mutex(false)

    /// From now on, the first SIGINT or SIGTERM only sets `stopRequested`.
    public static func stopGracefully() { graceful.withLock { $0 = true } }

    /// Whether a graceful stop was asked for (the first signal, after `stopGracefully`).
    public static var stopRequested: Bool { requested.withLock { $0 } }

    /// The first signal of a graceful job: true when it only requested the stop.
    static func requestStop() -> Bool {
        guard graceful.withLock({ $0 }) else { return false }
        return requested.withLock { asked in defer { asked = true }; return !asked }
    }

    /// Marks `url` as temporary until `unregister`: an interrupt removes it.
    public static func register(_ url: URL) { _ = paths.withLock { $0.insert(url.path) } }
    public static func unregister(_ url: URL) { _ = paths.withLock { $0.remove(url.path) } }

    /// The temporary outputs now registered.
    public static var registered: Set<String> { paths.withLock { $0 } }

    /// Handles SIGINT and SIGTERM for the rest of the process: removes every registered path,
    /// says so on standard error, and exits with 128 + the signal's number (what a shell reports
    /// for a process the signal ended). Once per process. `llmrec serve` does not call this: it
    /// shuts down gracefully on the same signals.
    public static func installHandlers() {
        guard installed.withLock({ done in defer { done = true }; return !done }) else { return }
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if requestStop() {
                    FileHandle.standardError.write(Data("llmrec: stopping at the next safe point (a training step saves a checkpoint); interrupt again to stop at once\n".utf8))
                    return
                }
                let removed = removeRegistered()
                let note = removed.isEmpty ? "" : "; removed the unfinished \(removed.joined(separator: ", "))"
                FileHandle.standardError.write(Data("llmrec: interrupted\(note)\n".utf8))
                // _exit, not exit: exit runs the process's destructors (ICU's, OpenBLAS's) while
                // the model's worker threads may still be computing in that memory, which crashed
                // an interrupted study mid-product. Nothing is left to flush: standard error is
                // unbuffered and every output is written through a temporary file and a rename.
                _exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Removes every registered path (a writer may still be adding files: tried a few times).
    @discardableResult
    static func removeRegistered() -> [String] {
        let all = paths.withLock { current in defer { current = [] }; return current.sorted() }
        for path in all {
            for _ in 0..<5 where FileManager.default.fileExists(atPath: path) {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        return all
    }
}
