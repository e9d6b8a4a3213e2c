// Reads a plan file strictly: every key known, every value of the right type and range, every
// name it refers to defined. Errors name the file and line ("plan.json:14: arm 'igd': unknown
// key 'bta' (known: …)"), so a typo never silently changes a study.
import CausalLM
import Decoding
import Foundation
import Kernels
import RecData
import Support
import Training

public enum PlanReader {
    /// Reads and checks `url`. `checkSources` resolves the model and dataset names (tests of the
    /// grammar alone turn it off).
    public static func read(_ url: URL, checkSources: Bool = true) throws -> StudyPlan {
        let file = url.path
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw StudyError.missing("\(file): cannot read the plan (\(error.localizedDescription))")
        }
        let root: JSONNode
        do { root = try JSONDocument.parse(text) } catch let e as JSONSyntaxError {
            throw StudyError.plan(file: file, line: e.line, message: "not valid JSON: \(e.message) (column \(e.column))")
        }
        return try PlanParser(file: file, checkSources: checkSources, directory: url.deletingLastPathComponent()).plan(root)
    }

    /// The training keys a plan's "training" object and each arm take, and what they set.
    public static let trainingKeys = TrainingSetting.planKeys
}

struct PlanParser {
    let file: String
    let checkSources: Bool
    /// Where the plan lies: imported studies are found from here.
    var directory: URL? = nil

    static let topKeys = ["name", "description", "model", "dataset", "samples", "training", "evaluation", "decoders", "arms",
                          "baseline", "noise_floor", "contrasts", "power_check", "floors", "external", "imports"]

    func object(_ node: JSONNode, _ context: String) throws -> PlanObject { try PlanObject(node, file: file, context: context) }

    func array(_ m: JSONMember) throws -> [JSONNode] {
        guard case .array(let a) = m.node.value else { throw StudyError.plan(file: file, line: m.line, message: "'\(m.key)' must be an array") }
        return a
    }

    func plan(_ root: JSONNode) throws -> StudyPlan {
        var top = try object(root, "the plan")
        let name = try top.string(top.required("name"))
        let description = try top.member("description").map { try top.string($0) } ?? ""
        let modelMember = try top.required("model")
        let model = try top.string(modelMember)
        if checkSources {
            do { _ = try ModelSource.resolve(model) } catch { throw top.fail(modelMember.line, "'model': \(error)") }
        }
        let dataset = try datasetSpec(top.required("dataset"))
        let samples = try sampleSpec(top.required("samples"))
        var training = TrainingParameters()
        training.validSamples = samples.valid
        let trainingMember = try top.required("training")
        var trainingObject = try object(trainingMember.node, "'training'")
        try applyTraining(&trainingObject, to: &training)
        try trainingObject.finish(known: PlanReader.trainingKeys)
        let evaluation = try evaluationSpec(top.member("evaluation"))
        let decoders = try decoderSpecs(top.required("decoders"), samples: samples, beams: evaluation.beams)
        let arms = try armSpecs(top.required("arms"), base: training, decoders: decoders)
        let armNames = arms.map(\.name)

        let baselineMember = try top.required("baseline")
        let baseline = try top.string(baselineMember)
        guard let baselineArm = arms.first(where: { $0.name == baseline }) else {
            throw top.fail(baselineMember.line, "'baseline' names '\(baseline)', which is not an arm (arms: \(armNames.joined(separator: ", ")))")
        }
        // The baseline runs first, for the power check, wherever the study runs.
        guard baselineArm.device == nil else {
            throw top.fail(baselineMember.line, "the baseline '\(baseline)' cannot be pinned to a device (it runs first, on every device)")
        }
        var noiseFloor: [String] = []
        if let m = top.member("noise_floor") {
            noiseFloor = try top.strings(m)
            guard noiseFloor.count == 2, Set(noiseFloor).count == 2 else { throw top.fail(m.line, "'noise_floor' names two different arms") }
            for n in noiseFloor where !armNames.contains(n) { throw top.fail(m.line, "'noise_floor' names '\(n)', which is not an arm") }
            // The seed gap must not mix in a device change.
            for n in noiseFloor where arms.first(where: { $0.name == n })!.device != nil {
                throw top.fail(m.line, "'noise_floor' names '\(n)', which is pinned to a device; the two arms may differ in their seed only")
            }
        }
        let floors = try floorSpec(top.member("floors"), decoders: decoders)
        let powerCheck = try top.member("power_check").map { try powerCheckSpec($0, samples: samples, floors: floors) }
        let external = try externalSpecs(top.member("external"), taken: armNames + Floor.names)
        let imports = try importSpec(top.member("imports"), taken: armNames + external.map(\.name)
            + floors.enabled.map(\.name))
        let contrasts = try contrastSpecs(top.member("contrasts"), arms: arms, imported: imports?.rows ?? [])
        try top.finish(known: Self.topKeys)
        return StudyPlan(name: name, description: description, model: model, dataset: dataset, samples: samples, training: training,
                         evaluation: evaluation, decoders: decoders, arms: arms, baseline: baseline, noiseFloor: noiseFloor,
                         contrasts: contrasts, powerCheck: powerCheck, floors: floors, external: external, imports: imports)
    }

    func datasetSpec(_ m: JSONMember) throws -> DatasetSpec {
        var o = try object(m.node, "'dataset'")
        let sourceMember = try o.required("source")
        var spec = DatasetSpec(source: try o.string(sourceMember))
        if checkSources {
            do { _ = try DataSource.resolve(dataset: spec.source, items: nil, format: .auto) } catch {
                throw o.fail(sourceMember.line, "'source': \(error)")
            }
        }
        if let s = o.member("split") { spec.split = try o.choice(s, SplitMethod.self, what: "split") }
        if let h = o.member("history") { spec.history = try o.integer(h, min: 1) }
        if let k = o.member("kcore") { spec.kcore = try o.integer(k, min: 0) }
        try o.finish(known: ["source", "split", "history", "kcore"])
        return spec
    }

    func sampleSpec(_ m: JSONMember) throws -> SampleSpec {
        var o = try object(m.node, "'samples'")
        let seed = try o.integer(o.required("seed"), min: 0)
        let spec = SampleSpec(seed: UInt64(seed), train: try o.integer(o.required("train"), min: 1),
                              valid: try o.integer(o.required("valid"), min: 1), test: try o.integer(o.required("test"), min: 1))
        try o.finish(known: ["seed", "train", "valid", "test"])
        return spec
    }

    func evaluationSpec(_ m: JSONMember?) throws -> EvaluationSpec {
        var spec = EvaluationSpec()
        guard let m else { return spec }
        var o = try object(m.node, "'evaluation'")
        if let b = o.member("beams") { spec.beams = try o.integer(b, min: 1) }
        if let b = o.member("batch") { spec.batch = try o.integer(b, min: 1) }
        try o.finish(known: ["beams", "batch"])
        return spec
    }

    func decoderSpecs(_ m: JSONMember, samples: SampleSpec, beams: Int) throws -> [DecoderSpec] {
        var out: [DecoderSpec] = []
        for node in try array(m) {
            var o = try object(node, "a decoder")
            let nameMember = try o.required("name")
            let name = try checkedName(o.string(nameMember), line: nameMember.line, o)
            o = try object(node, "decoder '\(name)'")
            _ = o.member("name")
            var spec = DecoderSpec(name: name)
            if let a = o.member("igd_alpha") {
                spec.igdAlpha = try o.number(a)
                guard DecodingOptions.igdAlphaRange.contains(spec.igdAlpha) else { throw o.fail(a.line, "'igd_alpha' must be in [0, 1], got \(spec.igdAlpha)") }
            }
            if let s = o.member("mask_softmax") { spec.maskSoftmax = try o.bool(s) }
            if let l = o.member("length_penalty") { spec.lengthPenalty = try o.number(l) }
            if let h = o.member("history") { spec.history = try o.integer(h, min: 1) }
            if let n = o.member("samples") {
                let count = try o.integer(n, min: 1)
                guard count <= samples.test else { throw o.fail(n.line, "'samples' is \(count), more than the plan's \(samples.test) test windows") }
                spec.samples = count
            }
            try o.finish(known: ["name", "igd_alpha", "mask_softmax", "length_penalty", "samples", "history"])
            guard !out.contains(where: { $0.name == name }) else { throw o.fail(nameMember.line, "a second decoder named '\(name)'") }
            out.append(spec)
        }
        guard !out.isEmpty else { throw StudyError.plan(file: file, line: m.line, message: "'decoders' must name at least one decoder") }
        return out
    }

    func armSpecs(_ m: JSONMember, base: TrainingParameters, decoders: [DecoderSpec]) throws -> [ArmSpec] {
        var out: [ArmSpec] = []
        let reserved = Floor.names + ["power-check"]
        for node in try array(m) {
            var o = try object(node, "an arm")
            let nameMember = try o.required("name")
            let name = try checkedName(o.string(nameMember), line: nameMember.line, o)
            guard !reserved.contains(name) else { throw o.fail(nameMember.line, "'\(name)' is reserved for a floor; name the arm otherwise") }
            guard !out.contains(where: { $0.name == name }) else { throw o.fail(nameMember.line, "a second arm named '\(name)'") }
            o = try object(node, "arm '\(name)'")
            _ = o.member("name")
            var training = base
            try applyTraining(&o, to: &training)
            let overrides = o.members.map(\.key).filter { PlanReader.trainingKeys.contains($0) }
            let decoderMember = try o.required("decoders")
            let names = try o.strings(decoderMember)
            guard !names.isEmpty else { throw o.fail(decoderMember.line, "'decoders' must name at least one decoder") }
            for d in names where !decoders.contains(where: { $0.name == d }) {
                throw o.fail(decoderMember.line, "unknown decoder '\(d)' (decoders: \(decoders.map(\.name).joined(separator: ", ")))")
            }
            guard Set(names).count == names.count else { throw o.fail(decoderMember.line, "'decoders' names a decoder twice") }
            let device = try o.member("device").map { try o.choice($0, StudyDevice.self, what: "device") }
            try o.finish(known: ["name", "decoders"] + PlanReader.trainingKeys + ["device"])
            out.append(ArmSpec(name: name, training: training, overrides: overrides, decoders: names, device: device))
        }
        guard !out.isEmpty else { throw StudyError.plan(file: file, line: m.line, message: "'arms' must hold at least one arm") }
        return out
    }

    func floorSpec(_ m: JSONMember?, decoders: [DecoderSpec]) throws -> FloorSpec {
        var spec = FloorSpec()
        guard let m else { return spec }
        var o = try object(m.node, "'floors'")
        if let p = o.member("popularity") { spec.popularity = try o.bool(p) }
        if let z = o.member("zero_shot") {
            spec.zeroShot = try o.strings(z)
            for d in spec.zeroShot where !decoders.contains(where: { $0.name == d }) {
                throw o.fail(z.line, "unknown decoder '\(d)' (decoders: \(decoders.map(\.name).joined(separator: ", ")))")
            }
        }
        try o.finish(known: ["popularity", "zero_shot"])
        return spec
    }

    func powerCheckSpec(_ m: JSONMember, samples: SampleSpec, floors: FloorSpec) throws -> PowerCheckSpec {
        var o = try object(m.node, "'power_check'")
        let againstMember = try o.required("against")
        let against = try o.string(againstMember)
        guard against == Floor.popularity.name, floors.popularity else {
            throw o.fail(againstMember.line, "'against' must be popularity (the floor computed before any arm), with floors.popularity on")
        }
        let metricMember = try o.required("metric")
        guard let metric = Metric(parsing: try o.string(metricMember)) else {
            throw o.fail(metricMember.line, "'metric' must read ndcg@K or hr@K")
        }
        let trainMember = try o.required("train")
        let sizes = try o.integers(trainMember, min: 1)
        var previous = samples.train
        for s in sizes {
            guard s > previous else { throw o.fail(trainMember.line, "'train' must grow from samples.train (\(samples.train)) upwards") }
            previous = s
        }
        try o.finish(known: ["against", "metric", "train"])
        return PowerCheckSpec(against: against, metric: metric, train: sizes)
    }

    func contrastSpecs(_ m: JSONMember?, arms: [ArmSpec], imported: [String] = []) throws -> [ContrastSpec] {
        guard let m else { return [] }
        var out: [ContrastSpec] = []
        for node in try array(m) {
            var o = try object(node, "a contrast")
            let armMember = try o.required("arm"), minusMember = try o.required("minus")
            let spec = ContrastSpec(arm: try o.string(armMember), minus: try o.string(minusMember), asks: try o.string(o.required("asks")))
            try o.finish(known: ["arm", "minus", "asks"])
            guard spec.arm != spec.minus else { throw o.fail(minusMember.line, "'arm' and 'minus' name the same arm '\(spec.arm)'") }
            guard !out.contains(where: { $0.arm == spec.arm && $0.minus == spec.minus }) else {
                throw o.fail(armMember.line, "'\(spec.arm)' minus '\(spec.minus)' is declared twice")
            }
            /// The arm `name`; only `minus` may also name an imported row.
            func arm(_ name: String, line: Int, minus: Bool = false) throws -> ArmSpec {
                guard let found = arms.first(where: { $0.name == name }) else {
                    throw o.fail(line, "'\(name)' is not an arm (arms: \(arms.map(\.name).joined(separator: ", ")))"
                        + (minus && !imported.isEmpty ? " nor an imported row (\(imported.joined(separator: ", ")))" : ""))
                }
                return found
            }
            let a = try arm(spec.arm, line: armMember.line)
            // A row imported from another study is set against each decoder of the arm.
            if imported.contains(spec.minus) {
                out.append(spec)
                continue
            }
            let b = try arm(spec.minus, line: minusMember.line, minus: true)
            guard a.decoders.contains(where: b.decoders.contains) else {
                throw o.fail(minusMember.line, "'\(spec.arm)' and '\(spec.minus)' share no decoder, so nothing compares them")
            }
            out.append(spec)
        }
        return out
    }

    /// Rows of another study on the same dataset and test windows, shown and compared beside this
    /// one's without being run again: `{"study": DIR relative to the plan, "rows": [arm, floor or external names]}`.
    func importSpec(_ m: JSONMember?, taken: [String]) throws -> ImportSpec? {
        guard let m else { return nil }
        var o = try object(m.node, "'imports'")
        let studyMember = try o.required("study"), rowsMember = try o.required("rows")
        var spec = ImportSpec(study: try o.string(studyMember), rows: try o.strings(rowsMember))
        if let m = o.member("training_tokens") {
            var tokens: [String: Int] = [:]
            var t = try object(m.node, "'training_tokens'")
            for member in t.members {
                guard spec.rows.contains(member.key) else { throw t.fail(member.line, "'\(member.key)' is not an imported row") }
                tokens[member.key] = try t.integer(t.member(member.key)!, min: 1)
            }
            try t.finish(known: spec.rows)
            spec.trainingTokens = tokens
        }
        try o.finish(known: ["study", "rows", "training_tokens"])
        guard !spec.rows.isEmpty, Set(spec.rows).count == spec.rows.count else { throw o.fail(rowsMember.line, "'rows' names each row once, at least one") }
        for row in spec.rows where taken.contains(row) {
            throw o.fail(rowsMember.line, "the imported row '\(row)' has the name of one of this plan's rows")
        }
        if checkSources, let directory {
            let url = directory.appendingPathComponent(spec.study).appendingPathComponent("plan.json")
            let other: StudyPlan
            do { other = try PlanReader.read(url, checkSources: false) } catch {
                throw o.fail(studyMember.line, "'study': \(error)")
            }
            let known = other.arms.map(\.name) + other.external.map(\.name) + other.floors.enabled.map(\.name)
            for row in spec.rows where !known.contains(row) {
                throw o.fail(rowsMember.line, "'\(row)' is no row of \(url.path) (rows: \(known.joined(separator: ", ")))")
            }
        }
        return spec
    }

    func externalSpecs(_ m: JSONMember?, taken: [String]) throws -> [ExternalSpec] {
        guard let m else { return [] }
        var out: [ExternalSpec] = []
        for node in try array(m) {
            var o = try object(node, "an external result")
            let nameMember = try o.required("name")
            let name = try checkedName(o.string(nameMember), line: nameMember.line, o)
            guard !taken.contains(name), !out.contains(where: { $0.name == name }) else {
                throw o.fail(nameMember.line, "the name '\(name)' is taken by an arm, a floor or another external result")
            }
            let spec = ExternalSpec(name: name, description: try o.string(o.required("description")), command: try o.string(o.required("command")))
            try o.finish(known: ["name", "description", "command"])
            out.append(spec)
        }
        return out
    }

    /// Names become directory names: letters, digits, '-', '_', '+' and '.', not starting with '.'.
    func checkedName(_ name: String, line: Int, _ o: PlanObject) throws -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+.")
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ allowed.contains($0) }), !name.hasPrefix(".") else {
            throw o.fail(line, "the name '\(name)' must be 1-64 letters, digits, '-', '_', '+' or '.' (it names a directory)")
        }
        return name
    }

    /// Applies the training keys present in `o` to `p`, reading each value's type; the values
    /// are then checked by the rules every run meets (TrainingParameters.check), at the line of
    /// the key a broken rule names.
    func applyTraining(_ o: inout PlanObject, to p: inout TrainingParameters) throws {
        if let m = o.member("loss") { p.loss = try o.choice(m, LossKind.self, what: "loss") }
        func whole(_ key: String) throws -> Int? { try o.member(key).map { try o.integer($0, min: Int.min) } }
        func number(_ key: String) throws -> Double? { try o.member(key).map { try o.number($0) } }
        if let x = try number("beta") { p.beta = x }
        if let x = try number("tau") { p.tau = x }
        if let m = o.member("ats") { p.ats = try o.bool(m) }
        if let n = try whole("ats_min_valid") { p.atsMinValid = n }
        if let x = try number("lr") { p.learningRate = x }
        if let n = try whole("warmup") { p.warmup = n }
        if let m = o.member("schedule") { p.schedule = try o.choice(m, LRSchedule.self, what: "schedule") }
        if let n = try whole("epochs") { p.epochs = n }
        if let n = try whole("max_steps") { p.maxSteps = n }
        if let n = try whole("train_tokens") { p.trainTokens = n }
        // Windows stay nil, as in a run's config.json.
        if let m = o.member("samples") { p.samples = try o.choice(m, SampleFormat.self, what: "sample format") == .sequences ? .sequences : nil }
        if let n = try whole("max_tokens") { p.maxTokens = n }
        if let n = try whole("batch") { p.batch = n }
        if let n = try whole("grad_accum") { p.gradAccum = n }
        if let x = try number("clip") { p.clipNorm = x }
        if let x = try number("weight_decay") { p.weightDecay = x }
        if let n = try whole("seed") {
            guard n >= 0 else { throw o.fail(o.member("seed")!.line, "'seed' must be at least 0, got \(n)") }
            p.seed = UInt64(n)
        }
        if let n = try whole("eval_every") { p.evalEvery = n }
        // fp32 stays nil, as in a run's config.json: plans from before the key read the same.
        if let m = o.member("precision") { p.precision = try o.choice(m, Precision.self, what: "precision") == .bf16 ? .bf16 : nil }
        let rank = try whole("lora_rank")
        let alpha = try number("lora_alpha")
        let dropout = try number("lora_dropout")
        var targets: [LoRATarget]?
        if let m = o.member("lora_targets") {
            do { targets = try LoRATarget.parse(try o.strings(m)) } catch { throw o.fail(m.line, "'lora_targets': \(error)") }
        }
        if let rank {
            p.lora = LoRASettings(rank: rank, alpha: alpha, dropout: dropout ?? 0.05, targets: targets ?? LoRATarget.defaults)
        } else if alpha != nil || dropout != nil || targets != nil {
            if var l = p.lora {
                if let alpha { l.alpha = alpha }
                if let dropout { l.dropout = dropout }
                if let targets { l.targets = targets }
                p.lora = l
            } else {
                throw o.fail(o.line, "lora_alpha, lora_dropout and lora_targets need lora_rank")
            }
        }
        do { try p.check { "'\($0.planKey)'" } } catch {
            // At the key the broken rule names where this object sets it, else at the object.
            throw o.fail(o.members.first { $0.key == error.setting.planKey }?.line ?? o.line, error.message)
        }
    }
}
