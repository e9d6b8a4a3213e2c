// `llmrec data prepare` and `llmrec data show`: turn interaction logs into a prepared
// dataset directory, and show what the model will be trained on.
import ArgumentParser
import CausalLM
import Foundation
import RecData
import Support

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Prepare datasets and look at their samples.",
        subcommands: [Prepare.self, Show.self]
    )
}

extension DataFormat: ExpressibleByArgument {}
extension TextEncoding: ExpressibleByArgument {}
extension SplitMethod: ExpressibleByArgument {}
extension SplitName: ExpressibleByArgument {}

extension DataCommand {
    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the catalog and train/valid/test samples from an interaction log, or take ready-made samples.",
            discussion: """
                Every interaction after a user's first becomes a sample: the previous items (up to --history, \
                oldest first) and the next item. Titles are trimmed, whitespace is collapsed, HTML character \
                references are unescaped (Amazon), and items with the same title become one catalog entry. \
                The output directory holds dataset.json (how it was made), stats.json, catalog.jsonl and \
                train/valid/test.jsonl; it is written completely or not at all.

                Formats (--format, detected when auto):
                  movielens-100k  u.data + u.item, Latin-1
                  movielens-1m    ratings.dat + movies.dat, Latin-1
                  recbole         NAME.inter + NAME.item (RecBole atomic files)
                  amazon-2018     reviews JSON lines + meta_NAME.json
                  amazon-2023     reviews JSON lines + meta_NAME.jsonl (timestamps in ms)
                  csv             user,item,timestamp + item,title (CSV or TSV, header optional)

                Ready-made samples (the papers' own splits, taken as they are: --train, --test, --valid):
                  d3              D3 / LLM4Rec-IGD process.py CSVs: history_item_id, history_item_title,
                                  item_id, item_title, user_id, timestamp
                  bigrec          BIGRec / MSL CSVs: user_id, item_ids (the last is the target), timestamp,
                                  with --items id2name.json (item id → title)

                Examples:
                  llmrec data prepare --dataset ml-100k --out data/ml-100k
                  llmrec data prepare --format bigrec --train MSL/data/Amazon_Books/train.csv \\
                    --test MSL/data/Amazon_Books/test_5000.csv --items MSL/data/Amazon_Books/id2name4Rec.json \\
                    --item-noun book --item-verb read --drop-untitled --out data/msl-books
                """
        )

        @Option(help: ArgumentHelp(
            "The interactions: ml-1m or ml-100k (embedded default), a directory, or an interactions file. Not with --train.",
            valueName: "alias|path"))
        var dataset: String?

        @Option(help: ArgumentHelp(
            "The item titles file, when it is not found next to the interactions by the format's naming; for --format bigrec the id → title JSON.",
            valueName: "path"))
        var items: String?

        @Option(help: ArgumentHelp("Ready-made training samples (--format d3 or bigrec), taken as they are.", valueName: "file"))
        var train: String?

        @Option(help: ArgumentHelp("Ready-made validation samples (optional: without them `train` validates on a named slice of the training file).", valueName: "file"))
        var valid: String?

        @Option(help: ArgumentHelp("Ready-made test samples (--format d3 or bigrec).", valueName: "file"))
        var test: String?

        @Option(help: ArgumentHelp("The input format.", valueName: DataFormat.allCases.map(\.rawValue).joined(separator: "|")))
        var format: DataFormat = .auto

        @Option(help: ArgumentHelp("Text encoding of delimited files: auto (UTF-8 when valid, else Latin-1), utf8 or latin1."))
        var encoding: TextEncoding = .auto

        @Option(help: ArgumentHelp("The dataset directory to write.", valueName: "dir"))
        var out: String

        @Option(help: "How samples are split: time (8:1:1 by target time, as in the IGD and D3 papers) or loo (leave one out per user).")
        var split: SplitMethod = .time

        @Option(help: "Most previous items in a sample's history.")
        var history: Int = 10

        @Option(help: "Keep only users and items with at least this many interactions, repeatedly (0 = no filter).")
        var kcore: Int = 0

        @Option(help: "Keep at most this many training samples, chosen at random with --seed.")
        var maxTrain: Int?

        @Option(help: "Keep at most this many validation samples, chosen at random with --seed.")
        var maxValid: Int?

        @Option(help: "Keep at most this many test samples, chosen at random with --seed.")
        var maxTest: Int?

        @Option(help: "Seed of the random subsampling.")
        var seed: UInt64 = 42

        @Option(help: "Singular item noun in the prompt (default: movie for MovieLens, item otherwise).")
        var itemNoun: String?

        @Option(help: "Plural item noun in the prompt (default: the noun with an s).")
        var itemPlural: String?

        @Option(help: "What the user has done with the items, in the prompt (default: watched for MovieLens, interacted with otherwise).")
        var itemVerb: String?

        @Option(help: ArgumentHelp(
            "A model whose tokenizer measures the responses (quoted title + EOS) in tokens for stats.json: smollm2, a .gguf file or a Hugging Face directory.",
            valueName: "model"))
        var model: String?

        @Flag(help: "Drop items without a title, and their interactions, instead of stopping with an error.")
        var dropUntitled = false

        @Flag(help: "Replace the output directory if it exists.")
        var force = false

        @Flag(help: "Print stats.json instead of the summary table.")
        var json = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if format.isSampleFiles {
                guard train != nil, test != nil, dataset == nil else {
                    throw ValidationError("--format \(format.rawValue) reads ready-made samples: give --train and --test (and --valid), not --dataset.")
                }
                for (name, value) in [("--max-train", maxTrain), ("--max-valid", maxValid), ("--max-test", maxTest)] where value != nil {
                    throw ValidationError("\(name): --format \(format.rawValue) takes the sample files as they are.")
                }
            } else {
                guard dataset != nil else { throw ValidationError("give the interactions with --dataset (or ready-made samples with --format d3|bigrec --train --test).") }
                guard train == nil, valid == nil, test == nil else {
                    throw ValidationError("--train, --valid and --test are for ready-made samples: add --format d3 or --format bigrec.")
                }
            }
            if history < 1 { throw ValidationError("--history must be at least 1, got \(history).") }
            if kcore < 0 { throw ValidationError("--kcore must be 0 (off) or more, got \(kcore).") }
            for (name, value) in [("--max-train", maxTrain), ("--max-valid", maxValid), ("--max-test", maxTest)] {
                if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value).") }
            }
            for (name, value) in [("--item-noun", itemNoun), ("--item-plural", itemPlural), ("--item-verb", itemVerb)] {
                if let value, value.trimmingCharacters(in: .whitespaces).isEmpty {
                    throw ValidationError("\(name) must not be empty.")
                }
            }
        }

        func run() throws {
            let log = global.bootstrapLogging()
            let source: DataSource
            if format.isSampleFiles, let train, let test {
                source = try DataSource.sampleFiles(format, splits: SplitFiles(train: train, valid: valid, test: test), items: items)
                if valid == nil { log.notice("no --valid file: `train` will validate on the last samples of \(train), left out of training") }
            } else {
                source = try DataSource.resolve(dataset: dataset ?? "", items: items, format: format)
            }
            log.info("reading \(source.format.rawValue): \(source.inputs.joined(separator: " + "))")
            var options = BuildOptions()
            options.historyLength = history
            options.split = split
            options.kCore = kcore
            options.dropUntitled = dropUntitled
            options.maxTrain = maxTrain
            options.maxValid = maxValid
            options.maxTest = maxTest
            options.seed = seed
            var counter: DatasetPreparation.TokenCounter?
            if let model {
                let modelSource = try ModelSource.resolve(model)
                let tokenizer = try modelSource.loadTokenizer()
                counter = (modelSource.path, { tokenizer.encode($0).count + 1 })
            }
            let result = try DatasetPreparation.run(
                source: source, encoding: encoding, options: options, vocabulary: vocabulary(for: source),
                tokenCounter: counter, out: URL(fileURLWithPath: out), replace: force)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(result.stats), as: UTF8.self))
            } else {
                print(summaryTable(result, out: out), terminator: "")
            }
        }

        private func vocabulary(for source: DataSource) -> PromptVocabulary? {
            guard itemNoun != nil || itemPlural != nil || itemVerb != nil else { return nil }
            let base = source.defaultVocabulary
            let noun = itemNoun ?? base.noun
            return PromptVocabulary(
                noun: noun, plural: itemPlural ?? (itemNoun == nil ? base.plural : noun + "s"), verb: itemVerb ?? base.verb)
        }
    }
}

/// The summary `data prepare` prints.
func summaryTable(_ r: PreparationResult, out: String) -> String {
    let s = r.stats
    var rows: [(String, String)] = [
        ("users", grouped(s.users)),
        ("items", grouped(s.items)
            + (s.duplicateTitlesMerged > 0
                ? " (\(grouped(s.catalogItems)) distinct titles; \(grouped(s.duplicateTitlesMerged)) duplicate titles merged)"
                : " (no duplicate titles)")),
        ("interactions", grouped(s.interactions)),
        ("samples train", grouped(s.samples.train) + subsampled(s.samples.train, s.samplesBeforeSubsampling.train)),
        ("samples valid", grouped(s.samples.valid) + subsampled(s.samples.valid, s.samplesBeforeSubsampling.valid)),
        ("samples test", grouped(s.samples.test) + subsampled(s.samples.test, s.samplesBeforeSubsampling.test)),
        ("mean history", String(format: "%.2f items", s.meanHistoryLength)),
        ("mean title", String(format: "%.1f characters", s.meanTitleCharacters)
            + (s.responseTokens.map { String(format: "; response %.1f tokens (max %d) with EOS", $0.mean, $0.max) } ?? "")),
    ]
    // Sample files: one row is one sample, and the splits are the files'.
    let sampleFiles = r.manifest.source.splits != nil
    if sampleFiles { rows.removeAll { $0.0 == "interactions" } }
    if s.raw.interactions != s.interactions || s.raw.users != s.users {
        let rowsRead = sampleFiles ? "samples" : "interactions"
        rows.insert(("as read", "\(grouped(s.raw.users)) users, \(grouped(s.raw.items)) items, \(grouped(s.raw.interactions)) \(rowsRead)"), at: 0)
    }
    if s.untitledItemsDropped > 0 {
        let samples = sampleFiles ? " (\(grouped(s.raw.interactions - s.samples.train - s.samples.valid - s.samples.test)) samples whose target they are)" : ""
        rows.append(("untitled dropped", "\(grouped(s.untitledItemsDropped)) items" + samples))
    }
    if s.usersWithoutSamples > 0 { rows.append(("users w/o samples", "\(grouped(s.usersWithoutSamples)) (one interaction only)")) }
    rows.append(("split", sampleFiles ? "as given by the files" : r.manifest.options.split.rawValue))
    rows.append(("seconds", String(format: "%.2f (read %.2f, build %.2f, write %.2f)",
                                   r.readSeconds + r.buildSeconds + r.writeSeconds, r.readSeconds, r.buildSeconds, r.writeSeconds)))
    rows.append(("written to", out))
    return alignedRows(rows)
}

private func subsampled(_ kept: Int, _ before: Int) -> String {
    kept == before ? "" : " (of \(grouped(before)))"
}

extension DataCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print samples of a prepared dataset with their rendered prompts and responses.",
            discussion: """
                Shows exactly the text the model is trained on: the prompt, then the response it learns \
                to write (the tokenizer appends the end-of-sequence token).

                Example:
                  llmrec data show data/ml-100k --split test --count 2
                """
        )

        @Argument(help: ArgumentHelp("A dataset directory written by `llmrec data prepare`.", valueName: "dir"),
                  completion: .directory)
        var directory: String

        @Option(help: "Which split: train, valid or test.")
        var split: SplitName = .train

        @Option(help: "How many samples to show.")
        var count: Int = 3

        @Option(help: "Show only this user's samples (the user id as in the source data).")
        var user: String?

        @Flag(help: "Print the catalog size and the stats instead of samples.")
        var stats = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if count < 1 { throw ValidationError("--count must be at least 1, got \(count).") }
        }

        func run() throws {
            _ = global.bootstrapLogging()
            let dataset = try DatasetReader.open(URL(fileURLWithPath: directory))
            if stats {
                print(String(decoding: try Data(contentsOf: dataset.directory.appendingPathComponent(DatasetFile.stats)), as: UTF8.self))
                return
            }
            let samples: [StoredSample]
            if let user {
                samples = Array(try DatasetReader.samples(split, of: dataset).filter { $0.user == user }.prefix(count))
                if samples.isEmpty { print("user '\(user)' has no \(split.rawValue) samples in \(directory)") }
            } else {
                samples = try DatasetReader.samples(split, of: dataset, limit: count)
            }
            print(renderSamples(samples, of: dataset, split: split), terminator: "")
        }
    }
}

/// The text `data show` prints for samples: a rule with the user and target, the prompt, the response.
func renderSamples(_ samples: [StoredSample], of dataset: PreparedDataset, split: SplitName) -> String {
    var out = ""
    for (i, s) in samples.enumerated() {
        out += "──── \(split.rawValue) sample \(i + 1) · user \(s.user) · \(s.history.count) history items · target #\(s.target) ────\n"
        out += dataset.prompt(for: s)
        out += dataset.response(for: s) + "<EOS>\n\n"
    }
    return out
}
