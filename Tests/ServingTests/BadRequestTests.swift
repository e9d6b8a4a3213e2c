// Every kind of bad request gets its status code and a JSON error naming what is wrong, and the
// server keeps serving afterwards; slow clients are cut off without holding up others.
import Foundation
import Logging
import NIOHTTP1
import APIRequests
import Testing
@testable import Serving

@Suite("serve: bad requests", .serialized)
struct BadRequestTests {
    @Test func badRequestsGetClearErrorsAndTheServerKeepsServing() async throws {
        var settings = ServeSettings()
        settings.maxBodyBytes = 2048
        settings.maxHistory = 5
        settings.maxK = 4
        let running = try await RunningServer.start(tinyRecommender, settings)
        let cases: [(body: String, status: Int, code: String, mentions: String)] = [
            ("{\"history\": [\"Toy Story (1995)\"", 400, "bad_request", "not valid JSON"),
            ("[1, 2]", 400, "bad_request", "wrong type"),
            ("{\"history\": \"Toy Story (1995)\"}", 400, "bad_request", "`history` has the wrong type: expected an array"),
            ("{\"history\": [\"Toy Story (1995)\"], \"k\": \"five\"}", 400, "bad_request", "`k` has the wrong type: expected a whole number"),
            ("{\"history_ids\": [0, \"1\"]}", 400, "bad_request", "`history_ids[1]` has the wrong type: expected a whole number, got the string '1'"),
            ("{\"history\": [\"Heat (1995)\"], \"k\": 2.5}", 400, "bad_request", "`k` has the wrong type: expected a whole number, got 2.5"),
            ("{\"history_ids\": [1e30]}", 400, "bad_request", "`history_ids[0]` is 1e+30: expected a whole number of at most 2^53"),
            ("{\"history\": [\"Heat (1995)\"], \"mask_softmax\": null}", 400, "bad_request", "`mask_softmax` has the wrong type: expected true or false, got null"),
            ("{}", 422, "invalid_request", "exactly one of"),
            ("{\"history\": [\"Heat (1995)\"], \"history_ids\": [0]}", 422, "invalid_request", "exactly one of"),
            ("{\"history\": []}", 422, "empty_history", "empty"),
            ("{\"history\": [\"Heat (1995)\", \"Heat (1995)\", \"Heat (1995)\", \"Heat (1995)\", \"Heat (1995)\", \"Heat (1995)\"]}", 422, "history_too_long", "at most 5"),
            ("{\"history_ids\": [0, 99, -1]}", 422, "unknown_ids", "99, -1"),
            ("{\"history\": [\"Heat (1995)\"], \"k\": 0}", 422, "invalid_request", "`k` must be in 1...4"),
            ("{\"history\": [\"Heat (1995)\"], \"k\": 5}", 422, "invalid_request", "`k` must be in 1...4"),
            ("{\"history\": [\"Heat (1995)\"], \"igd_alpha\": 1.5}", 422, "invalid_request", "`igd_alpha`"),
            ("{\"history\": [\"" + String(repeating: "x", count: 4000) + "\"]}", 413, "body_too_large", "2048 bytes"),
        ]
        for c in cases {
            let reply = try await running.send(.POST, "/v1/recommend", body: c.body)
            #expect(reply.status == c.status, "\(c.body.prefix(60)): \(reply.status) \(reply.text)")
            #expect(reply.errorCode == c.code, "\(c.body.prefix(60)): \(reply.text)")
            #expect(reply.text.contains(c.mentions), "\(c.body.prefix(60)): \(reply.text)")
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("application/json") == true)
        }
        // Unknown titles: all of them listed, each with the closest catalog titles.
        let unknown = try await running.recommend(["history": ["Toy Storey", "Heat (1995)", "jumanji 1995"]])
        #expect(unknown.status == 422 && unknown.errorCode == "unknown_titles")
        let listed = (unknown.object["error"] as? [String: Any])?["unknown_titles"] as? [[String: Any]] ?? []
        #expect(listed.map { $0["title"] as? String } == ["Toy Storey", "jumanji 1995"])
        #expect((listed.first?["suggestions"] as? [String])?.first == "Toy Story (1995)")
        // Search: a missing or empty q, a bad limit; unknown routes.
        #expect(try await running.send(.GET, "/v1/items").errorCode == "invalid_request")
        #expect(try await running.send(.GET, "/v1/items?q=%20").status == 422)
        #expect(try await running.send(.GET, "/v1/items?q=heat&limit=0").status == 422)
        #expect(try await running.send(.GET, "/v1/items?q=heat&limit=many").status == 422)
        #expect(try await running.send(.GET, "/v1/items?q=%0A%09").status == 422)
        #expect(try await running.send(.GET, "/v1/items?q=+%0B+").status == 422)  // `+` is a space, as forms encode it
        let missing = try await running.send(.GET, "/v2/recommend")
        #expect(missing.status == 404 && missing.errorCode == "not_found")
        // A known path with another method: 405 and the methods it answers.
        for (method, path, allow) in [(HTTPMethod.GET, "/v1/recommend", "POST"), (.DELETE, "/healthz", "GET"), (.PUT, "/v1/items", "GET")] {
            let wrong = try await running.send(method, path)
            #expect(wrong.status == 405 && wrong.errorCode == "method_not_allowed", "\(method) \(path): \(wrong.text)")
            #expect(wrong.headers.first(name: "allow") == allow)
        }
        // Long unknown titles: the message quotes each, cut.
        let long = (0..<5).map { String(repeating: "q", count: 120) + "\($0)" }
        let many = try await running.recommend(["history": long])
        let message = (many.object["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(many.status == 422 && message.contains("(and 41 more characters)") && message.count < 1000, "\(many.status) \(message.prefix(300))")
        // Still serving.
        let ok = try await running.recommend(["history": ["toy story (1995)", "Heat (1995)"], "k": 3])
        #expect(ok.status == 200, "\(ok.text)")
        #expect(ranking(ok).count == 3)
        #expect(formParameters("q=toy+story&limit=5&q=other&bad=%ZZ&flag") == ["q": "toy story", "limit": "5", "flag": ""])
        let search = try await running.send(.GET, "/v1/items?q=HEAT")
        #expect((search.object["items"] as? [[String: Any]])?.compactMap { $0["title"] as? String } == ["Heat (1995)"])
        // Errors are counted by route and status.
        let metrics = try await running.send(.GET, "/metrics").text
        #expect(metrics.contains("llmrec_http_errors_total{route=\"/v1/recommend\",status=\"422\"}"))
        #expect(metrics.contains("llmrec_http_errors_total{route=\"/v1/recommend\",status=\"413\"} 1"))
        try await running.stop()
    }

    /// A message about unknown titles names five, quoted and cut, and counts the rest.
    @Test func unknownTitlesMessageIsBounded() {
        let message = RecommendRequest.message(unknown: (0..<100).map { String(repeating: "\u{0}", count: 1000) + "\($0)" })
        #expect(message.hasPrefix("not catalog titles: '\\u{0}\\u{0}"))
        #expect(message.contains("(and 921 more characters)") && message.contains(" and 95 more;"))
        #expect(message.count < 3000)
    }

    /// A second server on a port that is taken says which address, and what to do.
    @Test func aPortInUseIsNamed() async throws {
        let running = try await RunningServer.start(tinyRecommender)
        let second = RecommendServer(recommender: tinyRecommender, settings: ServeSettings())
        var logger = Logger(label: "serving-tests")
        logger.logLevel = .critical
        await #expect {
            try await second.run(host: "127.0.0.1", port: running.port, logger: logger)
        } throws: { "\($0)" == "127.0.0.1:\(running.port) is already in use by another program; choose another --port (or 0 for any free one)" }
        #expect(try await running.send(.GET, "/healthz").status == 200)
        try await running.stop()
    }

    /// A client that sends part of a request and goes silent is disconnected after the idle
    /// timeout, while other clients are answered meanwhile.
    @Test func slowClientsAreCutOffWithoutBlockingOthers() async throws {
        var settings = ServeSettings()
        settings.idleTimeout = .seconds(1)
        let running = try await RunningServer.start(tinyRecommender, settings)
        let slow = try LoopbackSocket(port: running.port)
        try slow.write("POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"hist")
        let ok = try await running.recommend(["history": ["Heat (1995)"], "k": 2])
        #expect(ok.status == 200)
        // The server closes the silent connection (an answer, if any, is an error status).
        let started = Date()
        let answer = slow.readUntilClosed(timeout: 10)
        #expect(answer.closed, "the silent connection was not closed")
        #expect(Date().timeIntervalSince(started) < 8)
        #expect(answer.text.isEmpty || !answer.text.hasPrefix("HTTP/1.1 200"), "\(answer.text)")
        #expect(try await running.send(.GET, "/healthz").status == 200)
        // Counted as a disconnect, not as a status the client never received. The handler counts
        // it once its read fails, which may come just after the client saw the close.
        var metrics = ""
        for _ in 0..<100 {
            metrics = try await running.send(.GET, "/metrics").text
            if metrics.contains("llmrec_http_client_disconnects_total") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(metrics.contains("llmrec_http_client_disconnects_total{route=\"/v1/recommend\"} 1"), "\(metrics)")
        #expect(!metrics.contains("status=\"408\""))
        try await running.stop()
    }
}
