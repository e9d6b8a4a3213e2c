// The `llmrec` command: a thin layer over the libraries. One file per command (or group of
// subcommands); each parses and checks its options, calls a library function, and prints.
// Shared option groups live in OptionGroups.swift, shared output in Output.swift.
import ArgumentParser
import Support

@main
struct LLMRec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmrec",
        abstract: "Fine-tune a small language model into a generative recommender, evaluate it, and serve it.",
        discussion: """
            Pipeline: `data prepare` turns interaction logs into a catalog and train/valid/test samples; \
            later stages train, evaluate and serve a model on them. Short names resolve to the embedded \
            default assets (fetch them once with scripts/fetch-assets.sh): --dataset ml-1m, ml-100k.
            """,
        version: LLMRecVersion.current,
        subcommands: [
            DataCommand.self, TokenizeCommand.self, LogitsCommand.self, GenerateCommand.self, ModelCommand.self,
            IGCommand.self, TrainCommand.self, ExportCommand.self, EvalCommand.self, RecommendCommand.self, CompareCommand.self, ServeCommand.self, StudyCommand.self, ReportCommand.self,
            BenchCommand.self, AssetsCommand.self, CUDACommand.self,
        ]
    )

    /// Every command but `serve` (which shuts down gracefully on the same signals) removes its
    /// unfinished outputs when interrupted.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if !(command is ServeCommand) { InterruptCleanup.installHandlers() }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// A failure found while running (not while parsing): printed as its message, without the usage
/// lines that argument-parser adds to a ValidationError.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
