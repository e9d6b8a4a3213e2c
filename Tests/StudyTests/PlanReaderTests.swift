// The plan grammar: a valid plan reads as written; every kind of mistake is an error that names
// the file, the line and the key or arm.
import Foundation
import Study
import Testing
import Training

@Suite struct PlanReaderTests {
    static let valid = """
        {
          "name": "demo",
          "model": "smollm2",
          "dataset": {"source": "ml-100k", "history": 5},
          "samples": {"seed": 3, "train": 64, "valid": 8, "test": 20},
          "power_check": {"against": "popularity", "metric": "ndcg@10", "train": [128, 256]},
          "training": {"loss": "ce", "lr": 2e-4, "warmup": 2, "epochs": 2, "batch": 4, "grad_accum": 2, "seed": 1, "eval_every": 4},
          "decoders": [
            {"name": "plain"},
            {"name": "igd-decoding", "igd_alpha": 0.2, "samples": 10},
            {"name": "masked", "mask_softmax": true, "length_penalty": 1}
          ],
          "arms": [
            {"name": "ce", "decoders": ["plain", "masked"]},
            {"name": "msl+igd", "loss": "msl+igd", "ats": true, "beta": 0.3, "decoders": ["plain"]},
            {"name": "ce-lora", "lora_rank": 8, "lr": 1e-3, "decoders": ["plain", "igd-decoding"], "device": "cuda"},
            {"name": "ce-seed2", "seed": 2, "precision": "bf16", "decoders": ["plain"]}
          ],
          "baseline": "ce",
          "noise_floor": ["ce", "ce-seed2"],
          "contrasts": [{"arm": "msl+igd", "minus": "ce", "asks": "does MSL+IGD beat CE?"}],
          "floors": {"popularity": true, "zero_shot": ["plain"]},
          "external": [{"name": "sasrec", "description": "SASRec", "command": "python3 x.py"}]
        }
        """

    func read(_ text: String) throws -> StudyPlan {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try PlanReader.read(url, checkSources: false)
    }

    /// The message of the error reading `text` throws, after the file name.
    func failure(_ text: String) -> String {
        do {
            _ = try read(text)
            return "no error"
        } catch {
            let message = "\(error)"
            return String(message[message.range(of: ".json:")!.upperBound...])
        }
    }

    /// `valid` with one line replaced.
    func edited(_ old: String, _ new: String) -> String {
        precondition(Self.valid.contains(old))
        return Self.valid.replacingOccurrences(of: old, with: new)
    }

    @Test func readsAValidPlanAsWritten() throws {
        let plan = try read(Self.valid)
        #expect(plan.name == "demo" && plan.model == "smollm2" && plan.dataset.source == "ml-100k" && plan.dataset.history == 5)
        #expect(plan.dataset.split == .time)
        #expect(plan.samples.seed == 3 && plan.samples.train == 64 && plan.samples.valid == 8 && plan.samples.test == 20)
        #expect(plan.powerCheck?.metric == Metric(.ndcg, 10) && plan.powerCheck?.train == [128, 256])
        #expect(plan.arms.map(\.name) == ["ce", "msl+igd", "ce-lora", "ce-seed2"])
        let ce = plan.arm("ce")!.training
        #expect(ce.loss == .ce && ce.learningRate == 2e-4 && ce.warmup == 2 && ce.epochs == 2 && ce.batch == 4 && ce.gradAccum == 2)
        #expect(ce.validSamples == 8 && ce.lora == nil && ce.seed == 1 && ce.evalEvery == 4)
        // Overrides change only what they name.
        let mi = plan.arm("msl+igd")!
        #expect(mi.training.loss == .mslIGD && mi.training.ats && mi.training.beta == 0.3 && mi.training.learningRate == 2e-4)
        #expect(mi.overrides == ["loss", "ats", "beta"])
        let lora = plan.arm("ce-lora")!.training
        #expect(lora.lora?.rank == 8 && lora.lora?.alpha == 16 && lora.learningRate == 1e-3)
        #expect(plan.arm("ce-lora")!.device == .cuda && plan.arm("ce-lora")!.overrides == ["lora_rank", "lr"] && plan.arm("ce")!.device == nil)
        #expect(plan.arm("ce-seed2")!.training.seed == 2 && plan.arm("ce-seed2")!.training.precision == .bf16)
        #expect(ce.precision == nil)  // fp32 is left out, as in a run's config.json
        #expect(plan.decoder("igd-decoding")!.igdAlpha == 0.2 && plan.decoder("igd-decoding")!.samples == 10)
        #expect(plan.decoder("masked")!.maskSoftmax && plan.decoder("masked")!.lengthPenalty == 1 && plan.decoder("masked")!.samples == nil)
        #expect(plan.baseline == "ce" && plan.noiseFloor == ["ce", "ce-seed2"])
        #expect(plan.floors.popularity && plan.floors.zeroShot == ["plain"])
        #expect(plan.external.map(\.name) == ["sasrec"])
        #expect(plan.contrasts == [ContrastSpec(arm: "msl+igd", minus: "ce", asks: "does MSL+IGD beat CE?")])
    }

    /// Sequence arms, a decoder's whole-sequence history and rows imported from another study.
    @Test func sequenceArmsHistoriesAndImports() throws {
        let plan = try read(edited(#"{"name": "ce-seed2", "seed": 2,"#, #"{"name": "ce-seed2", "samples": "sequences", "max_tokens": 512, "train_tokens": 90000, "seed": 2,"#)
            .replacingOccurrences(of: #"{"name": "plain"},"#, with: #"{"name": "plain"}, {"name": "long", "history": 50},"#))
        let arm = try #require(plan.arm("ce-seed2"))
        #expect(arm.training.format == .sequences && arm.training.chunkTokens == 512 && arm.training.trainTokens == 90000)
        #expect(plan.arm("ce")!.training.format == .windows && plan.decoder("long")?.history == 50 && plan.decoder("plain")?.history == nil)
        #expect(failure(edited(#"{"name": "ce-seed2", "seed": 2,"#, #"{"name": "ce-seed2", "max_tokens": 512, "seed": 2,"#))
                == "17: arm 'ce-seed2': 'max_tokens' applies with 'samples' sequences only")
        #expect(failure(edited(#"{"name": "ce-seed2", "seed": 2,"#, #"{"name": "ce-seed2", "samples": "sessions", "seed": 2,"#))
                == "17: arm 'ce-seed2': unknown sample format 'sessions' (one of: windows, sequences)")
        let imports = #", "imports": {"study": "../other", "rows": ["ce-old", "sasrec2"], "training_tokens": {"ce-old": 1000}}"#
        let withImports = edited(#""external": [{"name": "sasrec", "description": "SASRec", "command": "python3 x.py"}]"#,
                                 #""external": [{"name": "sasrec", "description": "SASRec", "command": "python3 x.py"}]"# + imports)
            .replacingOccurrences(of: #""contrasts": [{"arm": "msl+igd", "minus": "ce", "asks": "does MSL+IGD beat CE?"}]"#,
                                  with: #""contrasts": [{"arm": "msl+igd", "minus": "sasrec2", "asks": "the gap"}]"#)
        let imported = try read(withImports)
        #expect(imported.imports == ImportSpec(study: "../other", rows: ["ce-old", "sasrec2"], trainingTokens: ["ce-old": 1000]))
        #expect(imported.contrasts.map(\.minus) == ["sasrec2"])
        #expect(failure(withImports.replacingOccurrences(of: #""sasrec2"]"#, with: #""sasrec"]"#)).hasSuffix("the imported row 'sasrec' has the name of one of this plan's rows"))
        #expect(failure(withImports.replacingOccurrences(of: #"{"ce-old": 1000}"#, with: #"{"ce-new": 1000}"#)).hasSuffix("'ce-new' is not an imported row"))
    }

    @Test func namesTheLineOfEachMistake() {
        // Line numbers count from the "{" on line 1.
        #expect(failure("{\n  \"name\": \"x\",\n  \"model\" \"smollm2\"\n}") == "3: not valid JSON: expected ':' after the key 'model' (column 11)")
        #expect(failure(edited(#""name": "demo","#, #""name": "demo", "nmae": 1,"#))
                == "2: the plan: unknown key 'nmae' (known: name, description, model, dataset, samples, training, evaluation, decoders, arms, baseline, noise_floor, contrasts, power_check, floors, external, imports)")
        #expect(failure(edited(#"{"name": "ce-seed2", "seed": 2,"#, #"{"name": "ce-seed2", "sed": 2,"#)).hasPrefix("17: arm 'ce-seed2': unknown key 'sed' (known: name, decoders, loss, beta"))
        #expect(failure(edited(#""loss": "msl+igd""#, #""loss": "msl-igd""#)) == "15: arm 'msl+igd': unknown loss 'msl-igd' (one of: ce, igd, msl, msl+igd)")
        #expect(failure(edited(#"{"name": "ce-lora","#, #"{"name": "ce","#)) == "16: an arm: a second arm named 'ce'")
        #expect(failure(edited(#""decoders": ["plain", "igd-decoding"]"#, #""decoders": ["plain", "igd"]"#))
                == "16: arm 'ce-lora': unknown decoder 'igd' (decoders: plain, igd-decoding, masked)")
        #expect(failure(edited(#""baseline": "ce","#, #""baseline": "cee","#))
                == "19: the plan: 'baseline' names 'cee', which is not an arm (arms: ce, msl+igd, ce-lora, ce-seed2)")
        #expect(failure(edited(#""device": "cuda""#, #""device": "tpu""#)) == "16: arm 'ce-lora': unknown device 'tpu' (one of: cpu, cuda)")
        #expect(failure(edited(#"{"name": "ce", "decoders": ["plain", "masked"]}"#, #"{"name": "ce", "decoders": ["plain", "masked"], "device": "cpu"}"#))
                == "19: the plan: the baseline 'ce' cannot be pinned to a device (it runs first, on every device)")
        #expect(failure(edited(#"{"name": "ce-seed2", "seed": 2,"#, #"{"name": "ce-seed2", "device": "cuda", "seed": 2,"#))
                == "20: the plan: 'noise_floor' names 'ce-seed2', which is pinned to a device; the two arms may differ in their seed only")
        #expect(failure(edited(#""lr": 2e-4,"#, #""lr": -1,"#)) == "7: 'training': 'lr' must be positive, got -1.0")
        #expect(failure(edited(#""precision": "bf16","#, #""precision": "fp16","#)) == "17: arm 'ce-seed2': unknown precision 'fp16' (one of: fp32, bf16)")
        #expect(failure(edited(#""beta": 0.3,"#, #""beta": 3,"#)) == "15: arm 'msl+igd': 'beta' must be in [0, 1], got 3.0")
        #expect(failure(edited(#""epochs": 2,"#, #""epochs": 1.5,"#)) == "7: 'training': 'epochs' must be a whole number, got 1.5")
        #expect(failure(edited(#""samples": 10"#, #""samples": 30"#)) == "10: decoder 'igd-decoding': 'samples' is 30, more than the plan's 20 test windows")
        #expect(failure(edited(#""train": [128, 256]"#, #""train": [32]"#)) == "6: 'power_check': 'train' must grow from samples.train (64) upwards")
        #expect(failure(edited(#"{"name": "ce", "decoders""#, #"{"name": "popularity", "decoders""#))
                == "14: an arm: 'popularity' is reserved for a floor; name the arm otherwise")
        #expect(failure(edited(#"{"name": "ce-seed2", "seed": 2,"#, #"{"name": "ce-seed2", "ats": true,"#))
                == "17: arm 'ce-seed2': 'ats' applies to the msl losses only (loss is ce)")
        #expect(failure(edited(#"{"name": "ce-seed2", "seed": 2,"#, #"{"name": "ce-seed2", "ats_min_valid": 2,"#))
                == "17: arm 'ce-seed2': 'ats_min_valid' applies with 'ats' only")
        #expect(failure(edited(#"{"name": "ce-seed2", "seed": 2,"#, #"{"name": "ce-seed2", "loss": "msl", "ats": true, "ats_min_valid": 1,"#))
                .contains("ats_min_valid"))
        #expect(failure(edited(#""history": 5"#, #""history": 5, "history": 6"#)) == "4: not valid JSON: the key 'history' appears twice in one object (column 1)")
        #expect(failure(edited(#""name": "demo","#, #""name": "../demo","#)).contains("no error"))
        #expect(failure(edited(#"{"name": "ce-lora","#, #"{"name": "../x","#))
                == "16: an arm: the name '../x' must be 1-64 letters, digits, '-', '_', '+' or '.' (it names a directory)")
        #expect(failure(edited(#""minus": "ce""#, #""minus": "cee""#))
                == "21: a contrast: 'cee' is not an arm (arms: ce, msl+igd, ce-lora, ce-seed2)")
        #expect(failure(edited(#""minus": "ce""#, #""minus": "msl+igd""#)) == "21: a contrast: 'arm' and 'minus' name the same arm 'msl+igd'")
        let sharesNothing = edited(#""beta": 0.3, "decoders": ["plain"]"#, #""beta": 0.3, "decoders": ["masked"]"#)
            .replacingOccurrences(of: #""minus": "ce""#, with: #""minus": "ce-seed2""#)
        #expect(failure(sharesNothing) == "21: a contrast: 'msl+igd' and 'ce-seed2' share no decoder, so nothing compares them")
        #expect(failure(edited(#""asks": "does MSL+IGD beat CE?""#, #""asks": "x", "why": "x""#)) == "21: a contrast: unknown key 'why' (known: arm, minus, asks)")
    }

    @Test func checksTheModelAndDatasetNames() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).json")
        try Data(edited(#""source": "ml-100k""#, #""source": "/no/such/ratings.dat""#).utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: StudyError.self) { try PlanReader.read(url) }
        do { _ = try PlanReader.read(url) } catch { #expect("\(error)".contains(".json:4: 'dataset': 'source': ")) }
    }
}
