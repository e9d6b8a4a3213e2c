// Graceful shutdown: a request in flight when the shutdown starts gets its answer; requests
// after that are turned away (503 on an open connection, or the connection refused once the
// listener is closed), and the server then stops.
import Foundation
import Testing
@testable import Serving

@Suite("serve: graceful shutdown", .serialized)
struct ShutdownTests {
    @Test func requestsInFlightFinishAndNewOnesAreRefused() async throws {
        var settings = ServeSettings()
        // The request waits in the batcher for company until the shutdown flushes it, so it is in
        // flight when the shutdown starts however slowly this test's task is scheduled. (With a
        // wait of 1.5 s a CI machine busy with other suites answered it before the loop below
        // looked, and the loop waited for ever.)
        settings.maxWait = .seconds(600)
        let running = try await RunningServer.start(tinyRecommender, settings)
        let inFlight = Task { try await running.recommend(["history": ["Heat (1995)"], "k": 2]) }
        // Start the shutdown only once the request is waiting in the batcher.
        let deadline = ContinuousClock.now + .seconds(300)
        while running.server.worker.queued == 0 {
            guard ContinuousClock.now < deadline else {
                Issue.record("the request never reached the batcher within 300 s")
                inFlight.cancel()
                try await running.stop()
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let stopping = Task { try await running.stop() }
        // Ask only once the shutdown has begun (a busy machine may start it late).
        while !running.server.shuttingDown.load(ordering: .relaxed) {
            guard ContinuousClock.now < deadline + .seconds(300) else {
                Issue.record("the shutdown never began")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        do {
            // A connection made while the server drains may never be read: 10 s, then refused.
            let late = try await running.send(.GET, "/healthz", timeout: .seconds(10))
            #expect(late.status == 503 && late.errorCode == "shutting_down", "\(late.status) \(late.text)")
        } catch {
            // Refused: the listener is already closed. Also a refusal.
        }
        let answer = try await inFlight.value
        #expect(answer.status == 200, "\(answer.text)")
        #expect(ranking(answer).count == 2)
        try await stopping.value
    }

    /// Once the shutdown flag is up, every route answers 503 with the JSON error and closes the connection.
    @Test func theGateTurnsRequestsAway() async throws {
        let running = try await RunningServer.start(tinyRecommender)
        #expect(try await running.send(.GET, "/healthz").status == 200)
        running.server.shuttingDown.store(true, ordering: .relaxed)
        for reply in [try await running.send(.GET, "/healthz"), try await running.recommend(["history": ["Heat (1995)"]])] {
            #expect(reply.status == 503 && reply.errorCode == "shutting_down", "\(reply.text)")
            #expect(reply.headers.first(name: "connection") == "close")
        }
        try await running.stop()
    }
}
