// The `llmrec` command: a thin layer over the libraries. One file per command group;
// each command parses and checks its options, calls a library function, and prints.
import ArgumentParser
import Kernels
import Logging
import Support
import Synchronization

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
            BenchCommand.self, AssetsCommand.self,
        ]
    )
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    /// Sends logs to standard error at the chosen level. Safe to call more than once.
    func bootstrapLogging() -> Logger {
        let level = logLevel
        LoggingBootstrap.once {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: "llmrec")
    }

    /// For commands that run the model: logging, and OpenBLAS on the right CPU kernels.
    func prepareForCompute() -> Logger {
        BLASSetup.ensureCoreType()
        let log = bootstrapLogging()
        log.debug("OpenBLAS core: \(BLASSetup.detectedCore)")
        return log
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// LoggingSystem.bootstrap may run only once per process; tests run several commands.
enum LoggingBootstrap {
    private static let done = Mutex(false)

    static func once(_ body: () -> Void) {
        done.withLock { done in
            if !done { body(); done = true }
        }
    }
}

/// A failure found while running (not while parsing): printed as its message, without the usage
/// lines that argument-parser adds to a ValidationError.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
