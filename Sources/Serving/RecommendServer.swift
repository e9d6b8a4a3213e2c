// `llmrec serve`: the HTTP API on Hummingbird.
//   POST /v1/recommend   ranked catalog items for a history (batched onto the model worker)
//   GET  /v1/items?q=    catalog titles containing q (prefix matches first), to turn what a
//                        user typed into catalog titles
//   GET  /healthz        liveness; 503 while shutting down
//   GET  /metrics        Prometheus text format
//   GET  /openapi.json   the API's OpenAPI 3.1 document
// Graceful shutdown: once a shutdown starts, new requests get 503 while the ones in flight
// finish; then the listener closes and the model worker drains its queue.
import APIRequests
import Decoding
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Support
import UnixSignals
import Synchronization

public final class RecommendServer: Sendable {
    public let recommender: Recommender
    public let settings: ServeSettings
    public let metrics = ServingMetrics()
    public let worker: BatchingWorker
    let titles: TitleLookup
    let shuttingDown = Atomic<Bool>(false)

    public init(recommender: Recommender, settings: ServeSettings) {
        self.recommender = recommender
        self.settings = settings
        titles = TitleLookup(titles: recommender.catalog.titles)
        worker = BatchingWorker(recommender: recommender, maxBatch: settings.maxBatch, maxWait: settings.maxWait, metrics: metrics)
    }

    struct Route: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var answer: @Sendable (RecommendServer, Request) async throws -> Response
    }

    /// The API's routes. The OpenAPI document lists exactly these (ServingTests).
    static let routes: [Route] = [
        Route(method: .post, path: "/v1/recommend") { try await $0.recommend($1) },
        Route(method: .get, path: "/v1/items") { try $0.items($1) },
        Route(method: .get, path: "/healthz") { server, _ in
            jsonResponse(HealthResponse(status: "ok", model: server.recommender.name, catalog_items: server.recommender.catalog.count))
        },
        Route(method: .get, path: "/metrics") { server, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: server.metrics.text())))
        },
        Route(method: .get, path: "/openapi.json") { server, _ in
            let document = OpenAPIDocument.json(settings: server.settings, catalogCount: server.recommender.catalog.count)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: document)))
        },
    ]

    /// The methods each path answers, for the `Allow` header of a 405.
    static let allowedMethods: [String: String] = Dictionary(grouping: routes, by: \.path).mapValues { $0.map(\.method.rawValue).joined(separator: ", ") }

    /// The routes and middleware.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ErrorAndMetricsMiddleware(metrics: metrics))
        router.add(middleware: ShutdownGate(server: self))
        for route in Self.routes {
            router.on(RouterPath(route.path), method: route.method) { request, _ in try await route.answer(self, request) }
        }
        return router
    }

    /// The application on `host:port` (port 0: any free port; `onRunning` receives the bound one).
    public func application(host: String, port: Int, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let idle = TimeAmount.nanoseconds(Int64(seconds(settings.idleTimeout) * 1e9))
        return Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(address: .hostname(host, port: port), serverName: "llmrec"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Serves until SIGINT or SIGTERM, then drains (see `services`).
    public func run(host: String, port: Int, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        do {
            try await services(host: host, port: port, logger: logger, shutdownSignals: [.sigterm, .sigint], onRunning: onRunning).run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw ServeError.addressInUse(host: host, port: port)
        }
    }

    /// The server as a service group: the model worker, the HTTP application, and the flag that
    /// turns new requests away. A graceful shutdown (one of `shutdownSignals`, or
    /// `triggerGracefulShutdown()`) stops them in reverse order: new requests get 503 at once,
    /// then the listener closes once the requests in flight have their answers, then the worker
    /// finishes its queue.
    public func services(host: String, port: Int, logger: Logger, shutdownSignals: [UnixSignal],
                         onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> ServiceGroup {
        ServiceGroup(configuration: .init(
            services: [
                .init(service: WorkerService(worker: worker)),
                .init(service: application(host: host, port: port, logger: logger, onRunning: onRunning)),
                .init(service: ShutdownFlag(server: self)),
            ],
            gracefulShutdownSignals: shutdownSignals,
            logger: logger))
    }

    func recommend(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: settings.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code: "body_too_large", "the body is over this server's limit of \(settings.maxBodyBytes) bytes")
        } catch {
            // The client stopped sending (it went silent past the idle timeout, or hung up): the
            // connection is gone, so there is nobody to answer.
            throw ClientDisconnected()
        }
        let parsed: RecommendRequest
        do {
            parsed = try RecommendRequest.decode(Array(buffer: body))
        } catch let error as RequestError {
            throw APIError.badRequest(error.description)
        }
        let work = try await parsed.work(recommender: recommender, titles: titles, settings: settings)
        let result = try await worker.recommend(work)
        let catalog = recommender.catalog
        let items = result.items.map { RecommendedItem(id: $0.item, title: catalog.titles[$0.item], score: $0.score, source_ids: catalog.sourceIDs[$0.item]) }
        let latency = seconds(started.duration(to: .now)) * 1000
        return jsonResponse(RecommendResponse(items: items, model: recommender.name, latency_ms: latency, dropped_history: result.droppedHistory))
    }

    func items(_ request: Request) throws -> Response {
        let parameters = formParameters(request.uri.query ?? "")
        guard let q = parameters["q"], q.unicodeScalars.contains(where: { !OpenAPIDocument.blank.contains($0) }) else {
            throw APIError.invalid("give the text to search for as `q`, not only spaces, e.g. /v1/items?q=toy%20story")
        }
        let limitText = parameters["limit"]
        let limit = limitText.map { Int($0) } ?? 20
        guard let limit, (1...100).contains(limit) else { throw APIError.invalid("`limit` must be a whole number in 1...100, got \(quoted(limitText ?? "", limit: 20))") }
        let catalog = recommender.catalog
        return jsonResponse(ItemsResponse(items: titles.index.search(q, limit: limit).map { CatalogMatch(id: $0, title: catalog.titles[$0]) }))
    }
}

public enum ServeError: Error, CustomStringConvertible {
    case addressInUse(host: String, port: Int)

    public var description: String {
        switch self {
        case .addressInUse(let host, let port): "\(host):\(port) is already in use by another program; choose another --port (or 0 for any free one)"
        }
    }
}

/// A request whose client went away before its body was complete: nothing can be answered.
struct ClientDisconnected: Error {}

/// Turns every error into the API's JSON error (Hummingbird's own 404s included; a known path
/// asked with another method is a 405 with `Allow`), and records each request's route, status
/// and latency. A client that disconnected mid-body is counted as such, not as a status it
/// never received.
struct ErrorAndMetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServingMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch is ClientDisconnected {
            metrics.recordDisconnect(route: context.endpointPath ?? "unmatched")
            return Response(status: .requestTimeout, headers: [.connection: "close"])
        } catch let error as HTTPError where error.status == .notFound && RecommendServer.allowedMethods[request.uri.path] != nil {
            let allow = RecommendServer.allowedMethods[request.uri.path]!
            var apiError = APIError(.methodNotAllowed, code: "method_not_allowed", "\(request.uri.path) answers \(allow), not \(request.method.rawValue)")
            apiError.headers[.allow] = allow
            response = try apiError.response(from: request, context: context)
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : error.status == .methodNotAllowed ? "method_not_allowed" : "http_\(error.status.code)"
            response = try APIError(error.status, code: code, error.body ?? error.status.reasonPhrase).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try APIError(error.status, code: "http_\(error.status.code)", "\(error)").response(from: request, context: context)
        } catch {
            context.logger.error("request failed: \(error)")
            response = try APIError(.internalServerError, code: "internal", "\(error)").response(from: request, context: context)
        }
        metrics.record(route: context.endpointPath ?? "unmatched", status: response.status.code, duration: started.duration(to: .now))
        return response
    }
}

/// 503 for every request once shutdown has started.
struct ShutdownGate: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: RecommendServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if server.shuttingDown.load(ordering: .relaxed) {
            var response = try APIError(.serviceUnavailable, code: "shutting_down", "the server is shutting down").response(from: request, context: context)
            response.headers[.connection] = "close"
            return response
        }
        return try await next(request, context)
    }
}

/// Sets the server's shutting-down flag when a graceful shutdown begins.
struct ShutdownFlag: Service {
    let server: RecommendServer
    func run() async throws {
        try? await gracefulShutdown()
        server.shuttingDown.store(true, ordering: .relaxed)
        server.worker.stopWaitingForCompany()
    }
}

/// Keeps the model worker for the server's lifetime and drains it at shutdown.
struct WorkerService: Service {
    let worker: BatchingWorker
    func run() async throws {
        try? await gracefulShutdown()
        await worker.drain()
    }
}
