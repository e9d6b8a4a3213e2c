// `llmrec bench forward`: the model's speed, measured here —
// load time, forward throughput on a batch, single-token decode latency with the KV cache,
// peak memory. scripts/bench/forward.sh runs it beside the same measurements in PyTorch.
import ArgumentParser
import CatalogIndex
import CausalLM
import Foundation
import Kernels
import RecData
import Support
import Training

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure speed on this machine.", subcommands: [Forward.self, Train.self])

    struct Forward: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time model loading, a batched forward pass and single-token decoding.",
            discussion: """
                The forward pass runs --batch sequences of --tokens tokens (last-position logits, as \
                in evaluation); decoding feeds one token at a time after a --tokens prompt. The best of \
                --runs is reported. Compare with PyTorch: scripts/bench/forward.sh.

                Example:
                  llmrec bench forward --model smollm2 --batch 8 --tokens 128
                """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var precisionOptions: PrecisionOptions

        @Option(help: "Sequences in the forward batch.")
        var batch: Int = 8

        @Option(help: "Tokens per sequence (and prompt length for decoding).")
        var tokens: Int = 128

        @Option(help: "Single-token decoding steps to time.")
        var decodeSteps: Int = 32

        @Option(help: "Timed repetitions; the best is reported.")
        var runs: Int = 3

        @Flag(help: "Print one JSON object.")
        var json = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            for (name, v) in [("--batch", batch), ("--tokens", tokens), ("--decode-steps", decodeSteps), ("--runs", runs)] where v < 1 {
                throw ValidationError("\(name) must be at least 1, got \(v).")
            }
        }

        func run() throws {
            let log = global.prepareForCompute()
            let t0 = now()
            let (model, tokenizer) = try modelOptions.source().load()
            let loadSeconds = now() - t0
            // The inference path: weights packed once for the panel kernel (reported on its own line).
            let t1 = now()
            let packed = precisionOptions.packed(model, log: log)
            let packSeconds = now() - t1
            guard tokens + decodeSteps <= model.config.maxPositions else {
                throw ValidationError("--tokens + --decode-steps must fit the context (\(model.config.maxPositions)).")
            }
            // Real text, tiled to length: a MovieLens prompt.
            var text = tokenizer.encode("The user has watched the following movies before: \"Toy Story (1995)\", \"Heat (1995)\", \"Casino (1995)\". ")
            while text.count < tokens + decodeSteps { text += text }
            let seqs = (0..<batch).map { b in Array(text[b % 7..<(b % 7 + tokens)]) }

            var forwardBest = Double.infinity
            let cache = KVCache(config: model.config, slots: batch, capacity: tokens)
            _ = try model.forward(seqs, cache: cache, packed: packed)  // warm-up
            for _ in 0..<runs {
                cache.resetAll()
                let t = now()
                _ = try model.forward(seqs, cache: cache, packed: packed)
                forwardBest = min(forwardBest, now() - t)
            }
            var decodeBest = Double.infinity
            let decodeCache = KVCache(config: model.config, slots: 1, capacity: tokens + decodeSteps)
            for _ in 0..<runs {
                decodeCache.resetAll()
                _ = try model.forward([Array(text[0..<tokens])], cache: decodeCache, packed: packed)
                let t = now()
                for s in 0..<decodeSteps { _ = try model.forward([[text[tokens + s]]], cache: decodeCache, packed: packed) }
                decodeBest = min(decodeBest, (now() - t) / Double(decodeSteps))
            }
            let result: [(String, String)] = [
                ("model", model.config.architecture.rawValue + " \(grouped(model.config.parameterCount)) parameters"),
                ("threads", "\(ProcessInfo.processInfo.activeProcessorCount) (OpenBLAS \(BLASSetup.detectedCore))"),
                ("precision", precisionOptions.precision.rawValue + (precisionOptions.precision == .bf16 ? " (\(PanelWeights.BF16Kernel.best.rawValue))" : "")),
                ("load_s", String(format: "%.3f", loadSeconds)),
                ("pack_s", packed == nil ? "none (no AVX-512: sgemm)" : String(format: "%.3f", packSeconds)),
                ("forward_tokens_per_s", String(format: "%.1f", Double(batch * tokens) / forwardBest)),
                ("forward_batch", "\(batch)x\(tokens)"),
                ("decode_ms_per_token", String(format: "%.2f", decodeBest * 1000)),
                ("peak_rss_mb", String(format: "%.0f", peakRSSMegabytes())),
            ]
            printMeasurements(result, json: json)
        }
    }
}

extension BenchCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time fine-tuning steps (full or LoRA) on a prepared dataset.",
            discussion: """
                Runs --steps optimiser steps of --batch training samples (forward, loss on the response \
                tokens, backward, AdamW) in a temporary run directory and reports the median tokens/s of \
                the steps after the first, and peak memory. Compare with PyTorch: scripts/bench/train.sh.

                Example:
                  llmrec bench train --model smollm2 --data data/ml-100k --batch 8 --steps 4
                  llmrec bench train --model smollm2 --data data/ml-100k --batch 8 --steps 4 --lora-rank 8
                """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var dataOptions: DatasetOptions

        @Option(help: "Samples per step.")
        var batch: Int = 8

        @Option(help: "Steps to run (the first is not timed).")
        var steps: Int = 4

        @Option(help: "The loss: ce, igd, msl or msl+igd.")
        var loss: LossKind = .ce

        @Option(help: ArgumentHelp("Time LoRA of this rank (alpha twice the rank, dropout 0.05, on q_proj and v_proj) instead of full fine-tuning.",
                                   valueName: "r"))
        var loraRank: Int?

        @Flag(help: "Recompute activations in the backward pass (gradient checkpointing).")
        var gradientCheckpointing = false

        @OptionGroup var precisionOptions: PrecisionOptions

        @Flag(help: "Print one JSON object.")
        var json = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch).") }
            if steps < 2 { throw ValidationError("--steps must be at least 2 (the first is not timed), got \(steps).") }
        }

        func run() throws {
            let log = global.prepareForCompute()
            let (model, tokenizer) = try modelOptions.source().load()
            let dataset = try dataOptions.open()
            let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: dataset, tokenizer: tokenizer), maxValid: batch)
            var p = TrainingParameters()
            p.loss = loss
            p.batch = batch
            p.maxSteps = steps
            p.evalEvery = 0
            p.warmup = 0
            p.lora = loraRank.map { LoRASettings(rank: $0) }
            p.precision = precisionOptions.chosen(log: log) == .bf16 ? .bf16 : nil
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-bench-train-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: dir) }
            let runDir = RunDirectory(dir)
            try runDir.prepare(RunConfig(parameters: p, model: "bench", modelFingerprint: "", data: dataOptions.data, dataFingerprint: ""), resume: false)
            var rates: [Double] = []
            let trainer = try Trainer(model: model, corpus: corpus, parameters: p, run: runDir, recomputeActivations: gradientCheckpointing)
            try trainer.train(resume: false) { event in
                if case .step(let step, _, _, _, _, let tps, _) = event, step > 1 { rates.append(tps) }
            }
            let median = rates.sorted()[rates.count / 2]
            let rows: [(String, String)] = [
                ("train_tokens_per_s", String(format: "%.1f", median)),
                ("batch", "\(batch)"),
                ("loss", loss.rawValue),
                ("trained", loraRank.map { "LoRA rank \($0)" } ?? "all weights"),
                ("precision", precisionOptions.precision.rawValue + (precisionOptions.precision == .bf16 ? " (\(PanelWeights.BF16Kernel.best.rawValue))" : "")),
                ("peak_rss_mb", String(format: "%.0f", peakRSSMegabytes())),
            ]
            printMeasurements(rows, json: json)
        }
    }
}
