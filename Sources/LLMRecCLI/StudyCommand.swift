// `llmrec study run`: execute a study plan arm by arm, resumably.
import ArgumentParser
import CUDABackend
import Foundation
import Study
import Support

struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Run a study: several training arms evaluated with several decoders on the same samples.",
        subcommands: [Run.self]
    )
}

extension StudyCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train and evaluate every arm of a plan that has no results yet.",
            discussion: """
                A plan (JSON; docs/study.md lists every key) declares one dataset, the training settings the \
                arms share, the arms (a name and the settings each overrides: loss, beta, tau, ats, seed, \
                lora_rank, precision, …), the decoders each arm is evaluated with (igd_alpha, mask_softmax, \
                length_penalty, how many test windows), the samples (training, validation and test windows \
                drawn with one seed, the same for every arm), the floors (popularity, the zero-shot model), \
                results brought in from outside (e.g. SASRec) and an optional pre-registered power check.

                The command prepares the dataset in the runs directory, draws the samples, ranks the \
                popularity floor, trains the baseline arm first (growing the training windows if it fails the \
                power check), then every other arm, then the zero-shot floor. Each arm's small results go to \
                DIR/results/ARM/ (settings, training log and time, per-decoder metrics and per-window ranks); \
                weights stay in the runs directory, which never needs to be committed.

                It can stop at any time: finished arms and decoders are skipped, an interrupted training \
                resumes from its latest checkpoint (bit-identical), an interrupted evaluation from its last \
                whole batch. Ctrl-C (SIGINT or SIGTERM) stops at the end of the current training step, saving \
                a checkpoint there so that nothing is repeated, or after the current evaluation batch; a \
                second Ctrl-C stops at once. A plan whose settings for an arm differ from that arm's stored results is \
                refused, naming the arm and the settings; --restart ARM starts that arm fresh (its results and run \
                are deleted once the directory is found to hold this study; --dry-run deletes nothing).

                With --device cuda, the arms trained and the decoders run in this invocation use the GPU \
                (fp32 or bf16 as each arm says); each arm's training.json and each decoder's results name the \
                GPU, and the report shows it beside their times. GPU training is not bit-identical from run to \
                run (the embedding gradient's atomic adds), so a resumed arm is close to, not equal to, an \
                uninterrupted one. An arm the plan pins with "device": "cuda" runs only in such an invocation; \
                a CPU run skips it and says so.

                Examples:
                  llmrec study run docs/study/ml-1m/plan.json --out docs/study/ml-1m --runs ~/llmrec-runs/ml-1m
                  llmrec study run docs/study/ml-1m/plan.json --out docs/study/ml-1m --runs /tmp/runs --device cuda --arm ce-gpu --arm zero-shot
                  llmrec report docs/study/ml-1m --out docs/RESULTS.md
                """)

        @Argument(help: ArgumentHelp("The plan file (JSON).", valueName: "plan"))
        var plan: String

        @Option(help: ArgumentHelp("The study directory: plan.json and results/ (small files, meant to be committed).", valueName: "dir"))
        var out: String

        @Option(help: ArgumentHelp("Where the prepared dataset, checkpoints and partial evaluations go (large; keep it out of the repository). (default: DIR/runs)",
                                   valueName: "dir"))
        var runs: String?

        @Option(help: ArgumentHelp("Delete this arm's (or floor's) results and run first, so it starts fresh; repeat for several.", valueName: "arm"))
        var restart: [String] = []

        @Option(name: .customLong("arm"),
                help: ArgumentHelp("Work only on this arm (or zero-shot); repeat for several. The baseline and popularity still run first when unfinished. "
                                   + "(default: every arm)", valueName: "arm"))
        var arms: [String] = []

        @Flag(help: "Read and check the plan, print its summary (for the device --device names), and stop.")
        var dryRun = false

        @OptionGroup var deviceOptions: DeviceOptions

        @OptionGroup var global: GlobalOptions

        /// The CPU, or the GPU's engine and passes (checked before anything is written).
        func compute() throws -> StudyCompute {
            guard deviceOptions.device == .cuda else { return .cpu }
            let gpu = try deviceOptions.cudaDevice()
            return StudyCompute(device: gpu.name, kind: .cuda,
                                engine: { model, parameters, adapter in try DeviceOptions.cudaEngine(model, parameters, adapter, recompute: false, on: gpu) },
                                passes: { model, precision in try DeviceOptions.cudaPasses(model, precision: precision, on: gpu) })
        }

        func run() throws {
            _ = global.prepareForCompute()
            let planURL = URL(fileURLWithPath: plan)
            let plan = try PlanReader.read(planURL)
            let text = try Data(contentsOf: planURL)
            let files = StudyFiles(directory: URL(fileURLWithPath: out), runs: runs.map { URL(fileURLWithPath: $0) })
            // Unbuffered: a study runs for hours, often with its output in a file.
            let compute = try compute()
            let runner = try StudyRunner(plan: plan, files: files, compute: compute) { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
            try runner.restrict(to: arms)
            try runner.restart(restart, dryRun: dryRun)
            if dryRun {
                try runner.summary(planText: text)
                return
            }
            // The first Ctrl-C stops at the next training step (saving a checkpoint there) or
            // evaluation batch; a second one stops at once.
            InterruptCleanup.stopGracefully()
            runner.stopRequested = { InterruptCleanup.stopRequested }
            do {
                try runner.run(planText: text)
            } catch let stopped as StudyInterrupted where InterruptCleanup.stopRequested {
                FileHandle.standardError.write(Data("llmrec: study stopped (\(stopped.point)); run the same command to continue\n".utf8))
                throw ExitCode(130)
            }
        }
    }
}
