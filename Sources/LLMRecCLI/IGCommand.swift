// `llmrec ig`: the information gain of the catalog's tokens on a prepared dataset — how much
// of what the model is trained to write carries no information about the item.
import ArgumentParser
import CatalogIndex
import CausalLM
import Foundation
import ItemIndex
import RecData
import Support

struct IGCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ig",
        abstract: "Print the information gain of the catalog's tokens on a prepared dataset.",
        discussion: """
            Builds the trie of the catalog's responses ("Title" then EOS) with the model's tokenizer and \
            weighs each item by how often it is a training target. A token's IG is how much it lowers \
            the entropy of the items still possible; zero-IG tokens (EOS, and tokens that are the only \
            way on) are the ones IGD down-weights.

            Example:
              llmrec ig --data data/ml-100k --model smollm2
            """)

    @OptionGroup var dataOptions: DatasetOptions
    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "How many first tokens to list as most and least decisive.")
    var top: Int = 10

    @Flag(help: "Print the statistics as JSON.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1, got \(top).") }
    }

    func run() throws {
        _ = global.bootstrapLogging()
        let tokenizer = try modelOptions.source().loadTokenizer()
        // The same trie and IG as training uses.
        let dataset = try dataOptions.open()
        let catalog = try TokenizedCatalog(dataset: dataset, tokenizer: tokenizer)
        let train = try DatasetReader.samples(.train, of: dataset)
        let stats = IGStatistics(catalog.ig, targets: train.map(\.target), top: top)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(stats), as: UTF8.self))
            return
        }
        print(alignedRows([
            ("catalog", "\(grouped(stats.items)) items, trie of \(grouped(stats.trieNodes)) nodes"),
            ("training targets", "\(grouped(train.count)) samples, \(grouped(stats.targetTokens)) response tokens (EOS included)"),
            ("zero-IG tokens", String(format: "%.1f%% of training target tokens", 100 * stats.zeroShare)),
        ]), terminator: "")
        print("\nby position   tokens      mean IG  zero-IG")
        for p in stats.byPosition.prefix(16) {
            print(String(format: "%11d  %7d  %11.5f  %6.1f%%", p.position, p.tokens, p.meanIG, 100 * p.zeroShare))
        }
        for (title, list) in [("most decisive first tokens", stats.mostDecisiveFirst), ("least decisive first tokens", stats.leastDecisiveFirst)] {
            print("\n\(title):  id  IG  items  token")
            for f in list {
                print(String(format: "%8d  %.5f  %5d  ", f.token, f.ig, f.items) + tokenizer.decode([f.token]).debugDescription)
            }
        }
    }
}
