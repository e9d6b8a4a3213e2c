// A real server on a free loopback port for each test (the same service group `llmrec serve`
// runs, without signal handlers), and real HTTP requests to it through AsyncHTTPClient.
import AsyncHTTPClient
import CatalogIndex
import CausalLM
import Decoding
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RecData
import ServiceLifecycle
@testable import Serving

let testsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

/// The tiny Llama on the fixture MovieLens-1M dataset: fast, for the API's behaviour.
let tinyRecommender: Recommender = {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-serve-data-\(UUID().uuidString.prefix(8))")
    let source = try! DataSource.resolve(dataset: testsRoot.appendingPathComponent("RecDataTests/Fixtures/ml-1m").path, items: nil, format: .auto)
    _ = try! DatasetPreparation.run(source: source, options: BuildOptions(), out: out, replace: false)
    let (model, tokenizer) = try! ModelSource.resolve(testsRoot.appendingPathComponent("CausalLMTests/Fixtures/tiny-llama").path).load()
    return Recommender(model: model, catalog: try! TokenizedCatalog(dataset: DatasetReader.open(out), tokenizer: tokenizer), name: "tiny-llama")
}()

/// The tests' HTTP client: the shared client's settings, but a read timeout long enough for a
/// request held while a busy machine stalls the test's task for minutes (the shared client's 90 s
/// failed a request held in the batcher during a full test run).
let testClient: HTTPClient = {
    var configuration = HTTPClient.Configuration.singletonConfiguration
    configuration.timeout = .init(connect: .seconds(90), read: .seconds(600))
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

struct RunningServer: Sendable {
    let server: RecommendServer
    let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(_ recommender: Recommender, _ settings: ServeSettings = ServeSettings()) async throws -> RunningServer {
        // A machine busy with the other suites can stall a test's task past the default 30 s
        // between two requests; the server then closes the idle keep-alive connection as the client
        // reuses it (a CI run saw "connection reset by peer"). Tests of the cut-off set their own.
        var settings = settings
        if settings.idleTimeout == ServeSettings().idleTimeout { settings.idleTimeout = .seconds(600) }
        let server = RecommendServer(recommender: recommender, settings: settings)
        var logger = Logger(label: "serving-tests")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let group = server.services(host: "127.0.0.1", port: 0, logger: logger, shutdownSignals: []) { continuation.yield($0) }
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return RunningServer(server: server, port: port, group: group, task: task)
    }

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var text: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    }

    func send(_ method: HTTPMethod, _ path: String, body: String? = nil, timeout: TimeAmount = .seconds(600)) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await testClient.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 1 << 22)
        return Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
    }

    func recommend(_ body: [String: Any]) async throws -> Reply {
        try await send(.POST, "/v1/recommend", body: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
    }

    /// Graceful shutdown, as on SIGTERM; returns when the server has stopped.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// The ranked (id, score) pairs of a 200 reply.
func ranking(_ reply: RunningServer.Reply) -> [(id: Int, score: Double)] {
    (reply.object["items"] as? [[String: Any]] ?? []).map { ($0["id"] as? Int ?? -1, $0["score"] as? Double ?? .nan) }
}
