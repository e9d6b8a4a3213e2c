// `llmrec recommend`: ranked catalog titles for one history of titles.
import ArgumentParser
import CatalogIndex
import Decoding
import Foundation
import RecData
import Training

struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Recommend catalog items for a history of titles.",
        discussion: """
            The history's titles must be catalog titles (exact, or the same ignoring case); for one that \
            is not, the closest catalog titles are listed. The prompt is the dataset's, the ranking the \
            same constrained beam search as `llmrec eval`. Histories longer than the model's context lose \
            their oldest titles, with a warning.

            Example:
              llmrec recommend --model runs/igd --data data/ml-100k --history "Toy Story (1995)" "Heat (1995)" --top 5
            """)

    @Option(help: ArgumentHelp("A run directory (llmrec train), a .gguf file, a Hugging Face directory, or smollm2.", valueName: "run|model"))
    var model: String = "smollm2"

    @OptionGroup var dataOptions: DatasetOptions

    @Option(parsing: .upToNextOption, help: ArgumentHelp("The titles the user has interacted with, oldest first.", valueName: "title"))
    var history: [String] = []

    @Option(help: "How many items to return.")
    var top: Int = 10

    @OptionGroup var decoding: SearchOptions
    @OptionGroup var precisionOptions: PrecisionOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "For a run directory: which checkpoint, best or latest.")
    var checkpoint: RunCheckpoint = .best

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if history.isEmpty { throw ValidationError("--history needs at least one title: the model recommends from what the user has seen.") }
        if top < 1 { throw ValidationError("--top must be at least 1, got \(top).") }
        try decoding.check(count: top)
    }

    func run() throws {
        let log = global.prepareForCompute()
        let dataset = try dataOptions.open()
        // Titles first: a typo should not wait for the model to load.
        let items: [Int]
        switch dataset.catalog.items(titled: history) {
        case .success(let found): items = found
        case .failure(let unknown): throw CommandFailure("in \(dataOptions.data)'s catalog: " + unknown.description)
        }
        let loaded = try ModelOrRun.load(model, checkpoint: checkpoint)
        let recommender = Recommender(model: loaded.model, catalog: try TokenizedCatalog(dataset: dataset, tokenizer: loaded.tokenizer).formatted(loaded.format), name: loaded.name,
                                      precision: precisionOptions.chosen(log: log),
                                      passes: try deviceOptions.beamPasses(loaded.model, precision: precisionOptions.precision))
        let count = min(top, dataset.catalog.count)
        if count < top { log.warning("the catalog has only \(dataset.catalog.count) items") }
        let result = try recommender.recommend([items], options: decoding.options(count: count))[0]
        if result.droppedHistory > 0 { log.warning("the history is longer than the model's context: its \(result.droppedHistory) oldest titles were left out") }
        let list = result.items
        if json {
            let obj = list.map { ["id": $0.item, "title": dataset.catalog.titles[$0.item], "score": $0.score] as [String: Any] }
            print(String(decoding: try JSONSerialization.data(withJSONObject: ["items": obj], options: [.sortedKeys]), as: UTF8.self))
        } else {
            for (i, r) in list.enumerated() { print(String(format: "%3d  %9.4f  ", i + 1, r.score) + dataset.catalog.titles[r.item]) }
        }
    }
}
