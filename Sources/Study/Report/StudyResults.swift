// A study directory read back for the report: the plan, and for every arm, floor and external
// result what exists of its settings, training record, log and decoder results. Nothing here
// needs the model, the dataset or the runs directory: a report is made from committed files.
import Foundation
import Support

public struct StudyResults {
    /// One evaluated (arm or floor, decoder) pair.
    public struct Row {
        public var arm: String
        public var decoder: String
        public var record: DecoderRecord
        /// Target rank per test window (nil: not in the list), in draw order.
        public var ranks: [Int?]
        public var kind: Kind
        public enum Kind: Int { case arm, floor, external }
        /// The study a row is imported from (its directory's name); nil for this study's own.
        public var source: String? = nil

        public var label: String { (decoder == ExternalResults.decoder ? arm : "\(arm) · \(decoder)") + (source.map { " [\($0)]" } ?? "") }
        public var listLength: Int { record.decoder.name == ExternalResults.decoder ? ExternalResults.listLength : record.beams }
        public func values(_ metric: Metric, first n: Int? = nil) -> [Double] {
            ranks.prefix(n ?? ranks.count).map { metric.value(rank: $0) }
        }
    }

    public struct Arm {
        public var spec: ArmSpec
        public var record: ArmRecord?
        public var training: TrainingRecord?
        var log: [RunLogEntry]
    }

    public let files: StudyFiles
    public let plan: StudyPlan
    public let arms: [Arm]
    public let rows: [Row]
    /// Imported arms' training records, by name.
    public let importedTraining: [String: TrainingRecord]
    public let powerCheck: PowerCheckRecord?
    public let dataset: DatasetRecord?
    public let ig: IGRecord?
    public let machines: [MachineRecord]

    public init(directory: URL) throws {
        let files = StudyFiles(directory: directory)
        self.files = files
        guard files.exists(files.plan) else {
            throw StudyError.missing("\(files.plan.path) is missing: not a study directory written by `llmrec study run`")
        }
        let plan = try PlanReader.read(files.plan, checkSources: false)
        self.plan = plan
        var arms: [Arm] = []
        var rows: [Row] = []
        for spec in plan.arms {
            let record = try Self.optional(ArmRecord.self, files.armSettings(spec.name))
            let training = try Self.optional(TrainingRecord.self, files.training(spec.name))
            let log = files.exists(files.log(spec.name)) ? try RunLog.read(files.log(spec.name)) : []
            arms.append(Arm(spec: spec, record: record, training: training, log: log))
            for d in spec.decoders { if let r = try Self.row(files, spec.name, d, .arm) { rows.append(r) } }
        }
        if plan.floors.popularity, let r = try Self.row(files, Floor.popularity.name, ExternalResults.decoder, .floor) { rows.append(r) }
        for d in plan.floors.zeroShot { if let r = try Self.row(files, Floor.zeroShot.name, d, .floor) { rows.append(r) } }
        for e in plan.external { if let r = try Self.row(files, e.name, ExternalResults.decoder, .external) { rows.append(r) } }
        var importedTraining: [String: TrainingRecord] = [:]
        if let spec = plan.imports {
            let imported = try Self.importedRows(spec, into: files)
            rows += imported.rows
            importedTraining = imported.training
        }
        self.arms = arms
        self.rows = rows
        self.importedTraining = importedTraining
        powerCheck = try Self.optional(PowerCheckRecord.self, files.powerCheck)
        dataset = try Self.optional(DatasetRecord.self, files.datasetSummary)
        ig = try Self.optional(IGRecord.self, files.ig)
        machines = try Self.optional([MachineRecord].self, files.machines) ?? []
    }

    /// The rows `spec` names from the other study, after checking it ranked the same test windows.
    static func importedRows(_ spec: ImportSpec, into files: StudyFiles) throws -> (rows: [Row], training: [String: TrainingRecord]) {
        let other = StudyFiles(directory: files.directory.appendingPathComponent(spec.study).standardizedFileURL)
        let source = other.directory.lastPathComponent
        let plan = try PlanReader.read(other.plan, checkSources: false)
        if let ours = try optional(SampleDraw.self, files.samples), let theirs = try optional(SampleDraw.self, other.samples) {
            let n = min(ours.test.count, theirs.test.count)
            guard ours.seed == theirs.seed, ours.test.prefix(n) == theirs.test.prefix(n) else {
                throw StudyError.damagedResult(file: other.samples.path, message: "the imported study drew other test windows than \(files.samples.path)")
            }
        }
        var rows: [Row] = [], training: [String: TrainingRecord] = [:]
        func add(_ name: String, _ decoder: String, _ kind: Row.Kind) throws {
            if var r = try row(other, name, decoder, kind) {
                r.source = source
                rows.append(r)
            }
        }
        for name in spec.rows {
            if let arm = plan.arm(name) {
                for d in arm.decoders { try add(name, d, .arm) }
                training[name] = try optional(TrainingRecord.self, other.training(name))
            } else if name == Floor.popularity.name {
                try add(name, ExternalResults.decoder, .floor)
            } else if name == Floor.zeroShot.name {
                for d in plan.floors.zeroShot { try add(name, d, .floor) }
            } else {
                try add(name, ExternalResults.decoder, .external)
            }
        }
        return (rows, training)
    }

    static func optional<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T? {
        FileManager.default.fileExists(atPath: url.path) ? try StudyJSON.read(type, from: url) : nil
    }

    static func row(_ files: StudyFiles, _ arm: String, _ decoder: String, _ kind: Row.Kind) throws -> Row? {
        let json = files.metrics(arm, decoder), tsv = files.rankings(arm, decoder)
        guard files.exists(json), files.exists(tsv) else { return nil }
        let record = try StudyJSON.read(DecoderRecord.self, from: json)
        let ranked = try RankedSample.read(tsv)
        guard ranked.count == record.samples else {
            throw StudyError.damagedResult(file: tsv.path, message: "\(ranked.count) windows, but \(json.lastPathComponent) says \(record.samples)")
        }
        return Row(arm: arm, decoder: decoder, record: record, ranks: ranked.map(\.rank), kind: kind)
    }

    public func row(_ arm: String, _ decoder: String) -> Row? { rows.first { $0.arm == arm && $0.decoder == decoder } }

    /// The row of `name` a decoder of this study's arms is compared with: its own row with that
    /// decoder, or an imported full ranking (popularity, SASRec), which stands against every decoder.
    public func counterpart(_ name: String, _ decoder: String) -> Row? {
        row(name, decoder) ?? rows.first { $0.arm == name && $0.source != nil && $0.decoder == ExternalResults.decoder }
    }

    /// The reference every row is compared with: the baseline arm with its first decoder.
    public var reference: Row? { plan.arm(plan.baseline).flatMap { row(plan.baseline, $0.decoders[0]) } }

    /// Arms of the plan with no results yet, and floors or external results missing.
    public var missing: [String] {
        var out: [String] = []
        for a in plan.arms {
            let lacking = a.decoders.filter { row(a.name, $0) == nil }
            guard !lacking.isEmpty else { continue }
            let what = lacking.count == a.decoders.count ? "arm \(a.name)" : "arm \(a.name): \(lacking.joined(separator: ", "))"
            // A pinned arm waits for a run on its device, which this machine may not have.
            let waits = a.device.map { " (pinned to \($0.rawValue): only `study run --device \($0.rawValue)` runs it)" } ?? ""
            out.append(what + waits)
        }
        if plan.floors.popularity, row(Floor.popularity.name, ExternalResults.decoder) == nil { out.append(Floor.popularity.name) }
        for d in plan.floors.zeroShot where row(Floor.zeroShot.name, d) == nil { out.append("\(Floor.zeroShot.name) · \(d)") }
        for e in plan.external where row(e.name, ExternalResults.decoder) == nil { out.append("\(e.name) (\(e.command))") }
        if let spec = plan.imports {
            for name in spec.rows where !rows.contains(where: { $0.arm == name && $0.source != nil }) { out.append("\(name) (imported from \(spec.study))") }
        }
        return out
    }
}

/// A machine a study ran on (one per distinct machine, in the order first seen).
public struct MachineRecord: Sendable, Codable, Equatable {
    public var cpu: String
    /// The vector extensions that decide llmrec's kernels (some virtual machines hide the CPU's model name).
    public var features: String
    public var cores: Int
    public var memoryGibibytes: Int
    public var llmrec: String

    /// This machine: the CPU model and flags from /proc/cpuinfo, logical cores, memory.
    public static var current: MachineRecord {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String? {
            info.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let features = ["avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16"].filter { flags.contains($0) }
        return MachineRecord(cpu: field("model name") ?? "unknown CPU", features: features.isEmpty ? "none of AVX2/AVX-512" : features.joined(separator: " "),
                             cores: ProcessInfo.processInfo.activeProcessorCount,
                             memoryGibibytes: Int((Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824).rounded()),
                             llmrec: LLMRecVersion.current)
    }
}
