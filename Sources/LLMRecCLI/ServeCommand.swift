// `llmrec serve`: the recommender over HTTP (Sources/Serving).
import ArgumentParser
import CatalogIndex
import Decoding
import Foundation
import Serving
import Training

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve recommendations over HTTP, batching concurrent requests onto one model worker.",
        discussion: """
            Routes (the OpenAPI document is at /openapi.json):
              POST /v1/recommend  {"history": ["Title", …] | "history_ids": [id, …], "k": 10, "igd_alpha": 0.1, "mask_softmax": true}
                                  → {"items": [{"id", "title", "score", "source_ids"}], "model", "latency_ms", "dropped_history"}
              GET  /v1/items?q=toy&limit=20   catalog titles containing q, prefix matches first
              GET  /healthz                   200 while serving, 503 while shutting down
              GET  /metrics                   Prometheus: requests, errors, latency, batch sizes

            Concurrent requests are gathered into one batched beam search: up to --max-batch, \
            waiting at most --max-wait-ms after the first. Answers equal `llmrec recommend` for the \
            same history and options. Bad requests get a JSON error naming the field (400 malformed \
            JSON or wrong types, 413 body over --max-body-kb, 422 empty, too long or unknown history \
            with the closest titles, k out of range; 405 with Allow for a wrong method). SIGINT or SIGTERM: requests in flight finish, \
            new ones get 503, then the server exits.

            Example:
              llmrec serve --model runs/quickstart-igd --data data/ml-100k --port 8080
              curl -s localhost:8080/v1/recommend -d '{"history": ["Toy Story (1995)", "Heat (1995)"], "k": 5}'
            """)

    @Option(help: ArgumentHelp("A run directory (llmrec train), a .gguf file, a Hugging Face directory, or smollm2.", valueName: "run|model"))
    var model: String = "smollm2"

    @OptionGroup var dataOptions: DatasetOptions

    @Option(help: "For a run directory: which checkpoint, best or latest.")
    var checkpoint: RunCheckpoint = .best

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port: Int = 8080

    @Option(help: "Most requests decoded together.")
    var maxBatch: Int = 16

    @Option(help: "Longest a request waits for others to join its batch, in milliseconds.")
    var maxWaitMs: Int = 5

    @Option(help: "Largest k a request may ask for (also capped by the catalog size).")
    var maxK: Int = 100

    @Option(help: "Most history items per request.")
    var maxHistory: Int = 100

    @Option(help: "Largest request body, in KiB.")
    var maxBodyKb: Int = 64

    @Option(help: "Seconds a connection may stay silent before it is closed (slow or idle clients).")
    var idleTimeout: Int = 30

    @OptionGroup var decoding: SearchOptions
    @OptionGroup var precisionOptions: PrecisionOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if !(0...65_535).contains(port) { throw ValidationError("--port must be in 0...65535, got \(port).") }
        if maxBatch < 1 { throw ValidationError("--max-batch must be at least 1, got \(maxBatch).") }
        if maxWaitMs < 0 { throw ValidationError("--max-wait-ms must be at least 0, got \(maxWaitMs).") }
        if maxK < 1 || maxHistory < 1 || maxBodyKb < 1 || idleTimeout < 1 {
            throw ValidationError("--max-k, --max-history, --max-body-kb and --idle-timeout must be at least 1.")
        }
        try decoding.check(count: min(10, maxK))
    }

    func run() async throws {
        let log = global.prepareForCompute()
        let dataset = try dataOptions.open()
        let loaded = try ModelOrRun.load(model, checkpoint: checkpoint)
        let recommender = Recommender(model: loaded.model, catalog: try TokenizedCatalog(dataset: dataset, tokenizer: loaded.tokenizer).formatted(loaded.format), name: loaded.name,
                                      precision: precisionOptions.chosen(log: log),
                                      passes: try deviceOptions.beamPasses(loaded.model, precision: precisionOptions.precision))
        var settings = ServeSettings()
        settings.decoding = decoding.options(count: 10)
        settings.maxBatch = maxBatch
        settings.maxWait = .milliseconds(maxWaitMs)
        settings.maxK = maxK
        settings.maxHistory = maxHistory
        settings.maxBodyBytes = maxBodyKb * 1024
        settings.idleTimeout = .seconds(idleTimeout)
        let server = RecommendServer(recommender: recommender, settings: settings)
        let (host, maxBatch, name) = (host, settings.maxBatch, loaded.name)
        try await server.run(host: host, port: port, logger: log) { bound in
            log.notice("serving \(name) on http://\(host):\(bound) (catalog: \(dataset.catalog.count) items, batches up to \(maxBatch))")
        }
    }
}
