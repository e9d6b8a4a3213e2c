// An interrupted command leaves nothing half-written: SIGINT or SIGTERM while `data prepare`
// writes its output removes the staging directory, and the exit status says which signal.
// Runs the built `llmrec` binary (beside the test bundle) as a user would.
import Foundation
import Support
import Testing

@Suite("llmrec interrupted", .serialized)
struct InterruptTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("llmrec")

    @Test(.enabled(if: Assets.ml1m.isPresent, "needs the embedded datasets; run scripts/fetch-assets.sh"))
    func anInterruptedPrepareRemovesItsStagingDirectory() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "no llmrec binary at \(Self.binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-interrupt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func staging() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix(".ml-1m.tmp-") } }
        let output = dir.appendingPathComponent("ml-1m")
        for signal in [SIGINT, SIGTERM] {
            // A signal that lands during the final rename lets the command finish (a complete
            // output, also clean); a few tries make sure the interrupted path is seen.
            var interrupted = false
            for _ in 0..<4 where !interrupted {
                try? FileManager.default.removeItem(at: output)
                let process = Process()
                process.executableURL = Self.binary
                process.arguments = ["data", "prepare", "--dataset", "ml-1m", "--out", output.path, "--force", "--log-level", "error"]
                let errors = Pipe()
                process.standardError = errors
                try process.run()
                // Interrupt while the output is being written (its staging directory exists).
                while process.isRunning {
                    if !staging().isEmpty {
                        kill(process.processIdentifier, signal)
                        break
                    }
                    usleep(200)
                }
                process.waitUntilExit()
                let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                #expect(staging().isEmpty, "left behind: \(staging()) (\(message))")
                if process.terminationStatus == 0 {
                    #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("dataset.json").path))
                } else {
                    interrupted = true
                    #expect(process.terminationStatus == 128 + signal, "\(message)")
                    #expect(message.contains("interrupted; removed the unfinished"), "\(message)")
                    #expect(!FileManager.default.fileExists(atPath: output.path))
                }
            }
            #expect(interrupted, "signal \(signal) never landed before the command finished")
        }
    }
}
