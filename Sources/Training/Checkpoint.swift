// A run directory: config.json (every setting, and fingerprints of the model and data, so a
// run can be repeated and a resume checked), log.jsonl (one line per step and per validation),
// checkpoint-latest/ (weights, AdamW moments and the loop's state, for an exact resume) and
// checkpoint-best/ (the weights with the lowest validation loss — never chosen on test).
// Checkpoints are written to a temporary directory and renamed, so a kill leaves the last whole one.
import CausalLM
import Foundation
import Support

public struct RunConfig: Sendable, Codable, Equatable {
    public var parameters: TrainingParameters
    public var model: String
    public var modelFingerprint: String
    public var data: String
    public var dataFingerprint: String
    public var llmrec = LLMRecVersion.current

    public init(parameters: TrainingParameters, model: String, modelFingerprint: String, data: String, dataFingerprint: String) {
        self.parameters = parameters
        self.model = model
        self.modelFingerprint = modelFingerprint
        self.data = data
        self.dataFingerprint = dataFingerprint
    }
}

public struct LoopState: Sendable, Codable, Equatable {
    public var step = 0
    /// Forward training tokens up to `step` (nil in checkpoints from before it was counted).
    public var tokens: Int?
    public var tau = 1.5
    public var bestValidLoss: Double?
    public var bestStep: Int?
}

public enum RunError: Error, CustomStringConvertible {
    case exists(String)
    case configMismatch(String, differences: [String])
    case noCheckpoint(String, which: String = "checkpoint-latest")
    case notARun(String)
    case modelChanged(String, trained: String, now: String)
    case nonFinite(step: Int, what: String)
    case corrupt(String, expected: String)
    case badData(String, String)

    public var description: String {
        switch self {
        case .exists(let p): "\(p) already holds a run; pass --resume to continue it, or choose another --out"
        case .configMismatch(let p, let d): "\(p)/config.json: the run was started with other settings (\(d.joined(separator: "; "))); resume with the same options, or use another --out"
        case .noCheckpoint(let p, let which): "\(p) has no \(which)" + (which == "checkpoint-latest" ? " to resume from" : "; has the run validated yet?")
        case .notARun(let p): "\(p)/config.json is missing or unreadable: not a run directory written by llmrec train"
        case .modelChanged(let m, let trained, let now):
            "\(m) has changed since the run was trained (fingerprint \(trained), now \(now)); the checkpoint belongs to the model it was trained on"
        case .nonFinite(let step, let what): "step \(step): the \(what) is not finite (NaN or Inf); the last good checkpoint is kept. Lower --lr, or pass --skip-nonfinite to skip such steps"
        case .corrupt(let p, let e): "\(p): expected \(e); the checkpoint is damaged"
        case .badData(let p, let what): "\(p): \(what)"
        }
    }
}

public struct RunDirectory: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }

    var configURL: URL { url.appendingPathComponent("config.json") }
    var logURL: URL { url.appendingPathComponent("log.jsonl") }
    public var latest: URL { url.appendingPathComponent("checkpoint-latest") }
    public var best: URL { url.appendingPathComponent("checkpoint-best") }

    /// Checks, writing nothing, that a new run may start here, or that a resumed one has the same config.
    public func check(_ config: RunConfig, resume: Bool) throws {
        let fm = FileManager.default
        if resume {
            guard fm.fileExists(atPath: latest.path) else { throw RunError.noCheckpoint(url.path) }
            let stored = try readConfig()
            if stored != config { throw RunError.configMismatch(url.path, differences: Self.differences(stored, config)) }
        } else if fm.fileExists(atPath: configURL.path) {
            throw RunError.exists(url.path)
        }
    }

    /// Tidies after a kill: a checkpoint whose commit was cut between its two renames is put back
    /// (AtomicDirectory moves the old one aside as `.NAME.old-*` before renaming the new one in),
    /// and partial checkpoints (`.NAME.tmp-*`, up to 1.6 GB each) are removed.
    public func recoverInterruptedCheckpoints() {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: url.path) else { return }
        for name in [latest.lastPathComponent, best.lastPathComponent] {
            let destination = url.appendingPathComponent(name)
            let old = entries.filter { $0.hasPrefix(".\(name).old-") }.sorted()
            if !fm.fileExists(atPath: destination.path), let keep = old.last {
                try? fm.moveItem(at: url.appendingPathComponent(keep), to: destination)
            }
            for stale in entries where stale.hasPrefix(".\(name).tmp-") || stale.hasPrefix(".\(name).old-") {
                try? fm.removeItem(at: url.appendingPathComponent(stale))
            }
        }
    }

    /// Drops the log's lines after `step` (a killed run logged steps past its last checkpoint;
    /// the resumed run logs them again).
    public func truncateLog(after step: Int) throws {
        guard let text = try? String(contentsOf: logURL, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in Self.logEntry(line).map { $0.step <= step } ?? false }
        try writeFileAtomically(Data(kept.map { $0 + "\n" }.joined().utf8), to: logURL)
    }

    /// One line of log.jsonl: its step and fields, or nil for a line that is not a log entry
    /// (a line cut by a kill, say).
    public static func logEntry(_ line: some StringProtocol) -> (step: Int, fields: [String: Any])? {
        guard let fields = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let step = (fields["step"] as? NSNumber)?.intValue
        else { return nil }
        return (step, fields)
    }

    /// Starts a new run (config.json, an empty log), or checks that a resumed one has the same config.
    public func prepare(_ config: RunConfig, resume: Bool) throws {
        if resume { recoverInterruptedCheckpoints() }
        try check(config, resume: resume)
        if resume { return }
        let fm = FileManager.default
        try fm.createDirectory(at: url, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeFileAtomically(encoder.encode(config), to: configURL)
        try Data().write(to: logURL)
    }

    static func differences(_ a: RunConfig, _ b: RunConfig) -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return settingChanges(a, b, encode: encoder.encode).map { "\($0.key): was \($0.before), now \($0.after)" }
    }

    /// The run's config.json.
    public func readConfig() throws -> RunConfig {
        guard let data = try? Data(contentsOf: configURL), let config = try? JSONDecoder().decode(RunConfig.self, from: data) else {
            throw RunError.notARun(url.path)
        }
        return config
    }

    /// Appends one JSON line to log.jsonl.
    public func log(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
            let handle = try? FileHandle(forWritingTo: logURL)
        else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        handle.write(data + Data("\n".utf8))
    }

    /// Writes a checkpoint directory atomically: raw float32 buffers and the loop state.
    public func save(to url: URL, buffers: [(String, UnsafeMutablePointer<Float>, Int)], state: LoopState) throws {
        try AtomicDirectory.write(to: url, replace: true) { dir in
            for (name, p, n) in buffers {
                try Data(bytes: p, count: n * 4).write(to: dir.file(name))
            }
            try JSONEncoder().encode(state).write(to: dir.file("state.json"))
        }
    }

    /// Reads a buffer written by `save` into `p` (n floats), checking its size.
    public func load(_ name: String, from url: URL, into p: UnsafeMutablePointer<Float>, count n: Int) throws {
        let file = url.appendingPathComponent(name)
        let data = try Data(contentsOf: file)
        guard data.count == n * 4 else { throw RunError.corrupt(file.path, expected: "\(n * 4) bytes, found \(data.count)") }
        data.withUnsafeBytes { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: n * 4) }
    }

    /// A checkpoint's loop state, checked: a step in 0...`maxStep` (when given), a finite τ, a best
    /// step no later than the step and a finite best loss. A file that is not such a state is
    /// reported as damaged, naming it.
    public func loadState(from url: URL, maxStep: Int? = nil) throws -> LoopState {
        let file = url.appendingPathComponent("state.json")
        let data: Data
        do { data = try Data(contentsOf: file) } catch { throw RunError.corrupt(file.path, expected: "a readable state.json") }
        let state: LoopState
        do { state = try JSONDecoder().decode(LoopState.self, from: data) } catch {
            throw RunError.corrupt(file.path, expected: "the loop state as JSON (step, tau, bestValidLoss, bestStep)")
        }
        let upper = maxStep ?? Int.max
        guard (0...upper).contains(state.step) else {
            throw RunError.corrupt(file.path, expected: "a step in 0...\(maxStep.map(String.init) ?? "∞"), found \(state.step)")
        }
        guard state.tau.isFinite, state.tau > 0 else { throw RunError.corrupt(file.path, expected: "a finite positive tau, found \(state.tau)") }
        if let b = state.bestStep, !(0...state.step).contains(b) {
            throw RunError.corrupt(file.path, expected: "a best step in 0...\(state.step), found \(b)")
        }
        if let v = state.bestValidLoss, !v.isFinite { throw RunError.corrupt(file.path, expected: "a finite best validation loss, found \(v)") }
        return state
    }
}
