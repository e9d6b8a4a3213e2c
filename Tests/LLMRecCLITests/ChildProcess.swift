// Runs the built `llmrec` binary as a child process and waits for it with waitpid, within a
// deadline. Not Foundation's Process: its waitUntilExit spins a run loop off the main thread
// and can miss the child's end, which hung a CI run of this suite (the tests run on Swift
// Testing's worker threads); a child that overruns its deadline is killed and named, so that
// a hang fails one test instead of stalling the whole run.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ChildProcess {
    /// How a run ended: an exit status, or the signal that ended it.
    struct Finished {
        var status: Int32
        var signal: Int32?
        var output: String
        var errors: String
        var exited: Bool { signal == nil }
    }

    struct Overran: Error, CustomStringConvertible {
        var command: String
        var seconds: Double
        var errors: String
        var description: String { "\(command) still ran after \(Int(seconds)) s and was killed; its standard error ended with:\n\(errors.suffix(2000))" }
    }

    struct SpawnFailed: Error, CustomStringConvertible {
        var command: String
        var code: Int32
        var description: String { "could not start \(command): \(String(cString: strerror(code)))" }
    }

    /// Runs `executable ARGUMENTS` with standard input from /dev/null and both output streams
    /// into files (no pipe can fill). With `signal`, sends it once `ready()` holds, polling every
    /// `interval` seconds. Kills the child and throws when it runs longer than `deadline`.
    static func run(_ executable: URL, _ arguments: [String], signal: Int32? = nil, interval: Double = 0.05,
                    deadline: Double = 900, when ready: () -> Bool = { true }) throws -> Finished {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-child-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputFile = scratch.appendingPathComponent("stdout"), errorFile = scratch.appendingPathComponent("stderr")
        let command = ([executable.lastPathComponent] + arguments).joined(separator: " ")
        let pid = try spawn(executable.path, arguments, output: outputFile.path, errors: errorFile.path, command: command)
        let start = Date()
        var rawStatus: Int32 = 0
        var ended = false, signalled = signal == nil
        func read(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        while !ended {
            if !signalled && ready() {
                kill(pid, signal!)
                signalled = true
            }
            if waitpid(pid, &rawStatus, WNOHANG) == pid {
                ended = true
            } else if Date().timeIntervalSince(start) > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &rawStatus, 0)
                throw Overran(command: command, seconds: deadline, errors: read(errorFile))
            } else {
                usleep(useconds_t(interval * 1e6))
            }
        }
        // The wait status as <sys/wait.h>'s macros read it: the low 7 bits are the ending
        // signal (0 for a normal exit), the next byte the exit status.
        let endingSignal = rawStatus & 0x7f
        return Finished(status: endingSignal == 0 ? (rawStatus >> 8) & 0xff : 0, signal: endingSignal == 0 ? nil : endingSignal,
                        output: read(outputFile), errors: read(errorFile))
    }

    private static func spawn(_ path: String, _ arguments: [String], output: String, errors: String, command: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard code == 0 else { throw SpawnFailed(command: command, code: code) }
        return pid
    }
}
