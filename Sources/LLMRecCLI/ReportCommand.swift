// `llmrec report`: a study directory as Markdown with SVG figures.
import ArgumentParser
import Foundation
import Study

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a study's report: Markdown with SVG figures, from the study directory alone.",
        discussion: """
            Reads DIR/plan.json and DIR/results/ (what `llmrec study run` wrote, plus any results brought \
            in from outside, such as SASRec's) and writes FILE.md with its figures in FILE-figures/. It needs \
            no model, dataset or checkpoint, and is deterministic: the same directory gives the same bytes, \
            so a committed report can be checked by making it again.

            The report holds: every arm × decoder and the floors with NDCG@5/10, HR@5/10, the valid-output \
            share, training and evaluation time; each row's difference to the baseline arm in NDCG@10 and \
            HR@10 with paired bootstrap 95% intervals, set against the gap between two seeds of the \
            baseline (the noise floor); the power check; figures (NDCG@10 with intervals, training and \
            validation loss, τ of the ATS arms, HR@K for K = 1…20, zero-IG share by position); DIR/discussion.md \
            when present; the settings of every arm, the machines, and the commands that reproduce it.

            Example:
              llmrec report docs/study/ml-1m --out docs/RESULTS.md
            """)

    @Argument(help: ArgumentHelp("The study directory (plan.json and results/).", valueName: "dir"))
    var directory: String

    @Option(help: ArgumentHelp("The Markdown file to write; figures go to FILE-figures/ beside it.", valueName: "file"))
    var out: String

    func validate() throws {
        guard out.hasSuffix(".md") else { throw ValidationError("--out must name a Markdown file ending in .md, got '\(out)'.") }
    }

    func run() throws {
        let written = try StudyReport.write(directory: URL(fileURLWithPath: directory), to: URL(fileURLWithPath: out))
        print("wrote \(written.markdown.path) and \(written.figures.count) figures in \(written.markdown.deletingLastPathComponent().path)/\(written.markdown.deletingPathExtension().lastPathComponent)-figures/")
    }
}
