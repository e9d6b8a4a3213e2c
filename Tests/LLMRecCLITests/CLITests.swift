// The command line: every option documented in --help, the summary table, and a whole
// `data prepare` + `data show` run on a fixture through the parsed commands.
import ArgumentParser
import Foundation
import Support
import Testing
@testable import LLMRecCLI
@testable import RecData

@Suite("llmrec CLI")
struct CLITests {
    /// Every command, found by walking the command tree from the root (so none can be missed).
    static let commands: [(String, any ParsableCommand.Type)] = {
        // Subcommands are named by their path below the root: "data prepare", "study run".
        func walk(_ command: any ParsableCommand.Type, _ path: String?) -> [(String, any ParsableCommand.Type)] {
            let name = command.configuration.commandName ?? String(describing: command).lowercased()
            let full = path.map { $0.isEmpty ? name : "\($0) \(name)" } ?? name
            return [(full, command)] + command.configuration.subcommands.flatMap { walk($0, path == nil ? "" : full) }
        }
        return walk(LLMRec.self, nil)
    }()

    @Test func theTreeHoldsEveryCommand() {
        let names = Set(Self.commands.map(\.0))
        for name in ["llmrec", "data prepare", "study run", "report", "serve", "compare", "bench forward", "model info"] {
            #expect(names.contains(name), "\(name) is missing from \(names.sorted())")
        }
    }

    @Test func everyOptionHasHelp() {
        for (name, command) in Self.commands {
            let help = LLMRec.helpMessage(for: command, columns: 200)
            #expect(help.contains("USAGE:"), "\(name)")
            #expect(!help.contains("OVERVIEW:") || help.split(separator: "\n").count > 3)
            // An option without help text shows as a bare name, with no text after it on its
            // line and no indented continuation line below it (long names wrap their text there).
            let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in lines.enumerated() where line.hasPrefix("  -") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                let textOnLine = parts.contains { !$0.hasPrefix("-") && !$0.hasPrefix("<") && $0 != "," && !$0.hasSuffix(">,") }
                let next = i + 1 < lines.count ? lines[i + 1] : ""
                let textBelow = next.hasPrefix("        ") && !next.trimmingCharacters(in: .whitespaces).hasPrefix("-")
                #expect(textOnLine || textBelow, "'\(name)': option without help: \(line)")
            }
        }
    }

    @Test func prepareHelpListsEveryOption() {
        let help = LLMRec.helpMessage(for: DataCommand.Prepare.self, columns: 200)
        for option in ["--dataset", "--items", "--format", "--encoding", "--out", "--split", "--history", "--kcore",
                       "--max-train", "--max-valid", "--max-test", "--seed", "--item-noun", "--item-plural", "--item-verb",
                       "--drop-untitled", "--force", "--json", "--log-level"] {
            #expect(help.contains(option), "missing \(option)")
        }
        for format in DataFormat.allCases { #expect(help.contains(format.rawValue)) }
    }

    @Test func groupedNumbers() {
        #expect(grouped(0) == "0")
        #expect(grouped(999) == "999")
        #expect(grouped(1000) == "1,000")
        #expect(grouped(1_000_209) == "1,000,209")
        #expect(grouped(-12_345) == "-12,345")
    }

    @Test func prepareThenShowOnAFixture() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RecDataTests/Fixtures")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-cli-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        var prepare = try LLMRec.parseAsRoot([
            "data", "prepare", "--dataset", fixtures.appendingPathComponent("ml-100k").path, "--out", out.path,
            "--item-noun", "film", "--log-level", "error",
        ])
        try prepare.run()
        let ds = try DatasetReader.open(out)
        #expect(ds.manifest.prompt.vocabulary == PromptVocabulary(noun: "film", plural: "films", verb: "watched"))
        let test = try DatasetReader.samples(.test, of: ds)
        let text = renderSamples(test, of: ds, split: .test)
        #expect(text.contains("The user has watched the following films before: \"Misérables, Les (1995)\", \"Heat (1995)\", \"Toy Story (1995)\"\n\n### Response:\n\"Jumanji (1995)\"<EOS>\n"))
        #expect(text.hasPrefix("──── test sample 1 · user 2 · 3 history items"))
    }

    @Test func badOptionsAreRejectedBeforeWork() {
        #expect(throws: (any Error).self) { try LLMRec.parseAsRoot(["data", "prepare", "--dataset", "x", "--out", "y", "--history", "0"]) }
        #expect(throws: (any Error).self) { try LLMRec.parseAsRoot(["data", "prepare", "--dataset", "x", "--out", "y", "--split", "random"]) }
        #expect(throws: (any Error).self) { try LLMRec.parseAsRoot(["data", "prepare", "--dataset", "x"]) }
        let train = ["train", "--data", "d", "--out", "o"]
        #expect { try LLMRec.parseAsRoot(train + ["--lora-rank", "8", "--lora-targets", "q_proj,lm_head"]) } throws: {
            LLMRec.message(for: $0).contains("no linear layer 'lm_head'")
        }
        #expect { try LLMRec.parseAsRoot(train + ["--full", "--lora-rank", "8"]) } throws: { LLMRec.message(for: $0).contains("exclude each other") }
        #expect { try LLMRec.parseAsRoot(train + ["--lora-alpha", "16"]) } throws: { LLMRec.message(for: $0).contains("need --lora-rank") }
        #expect { try LLMRec.parseAsRoot(train + ["--lora-rank", "8", "--lora-dropout", "1"]) } throws: { LLMRec.message(for: $0).contains("[0, 1)") }
        #expect(throws: Never.self) { try LLMRec.parseAsRoot(train + ["--lora-rank", "8", "--lora-targets", "all-linear"]) }
        #expect { try LLMRec.parseAsRoot(train + ["--ats-min-valid", "2"]) } throws: { LLMRec.message(for: $0).contains("with --ats only") }
        #expect { try LLMRec.parseAsRoot(train + ["--loss", "msl", "--ats", "--ats-min-valid", "1"]) } throws: { LLMRec.message(for: $0).contains("at least 2") }
        #expect(throws: Never.self) { try LLMRec.parseAsRoot(train + ["--loss", "msl", "--ats", "--ats-min-valid", "2"]) }
        // Non-finite numbers are refused before anything is written.
        for (option, value) in [("--lr", "inf"), ("--tau", "inf"), ("--clip", "inf"), ("--lr", "nan"), ("--weight-decay", "inf"), ("--weight-decay", "nan")] {
            #expect { try LLMRec.parseAsRoot(train + [option, value]) } throws: { LLMRec.message(for: $0).contains(option) }
        }
    }

    @Test func summaryTableShowsMergedDuplicates() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-sum-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RecDataTests/Fixtures")
        let source = try DataSource.resolve(dataset: fixtures.appendingPathComponent("ml-1m").path, items: nil, format: .auto)
        let result = try DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
        let table = summaryTable(result, out: out.path)
        #expect(table.contains("users              4\n"), "\(table)")
        #expect(table.contains("items              5 (4 distinct titles; 1 duplicate titles merged)\n"), "\(table)")
        #expect(table.contains("users w/o samples  1 (one interaction only)"))
    }
}
