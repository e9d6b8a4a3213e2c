// Dynamic batching onto one model worker. Requests queue up; the worker thread takes the first,
// waits until `maxBatch` have arrived or the first has waited `maxWait`, and decodes them as one
// batched beam search (requests with different decoding options form separate searches). The
// model runs on this one thread only, so requests never share buffers; while it computes, new
// requests gather for the next batch, so batches grow with the load.
import Decoding
import Foundation

/// A recommendation request as the worker sees it: catalog items and decoding options.
struct WorkItem: Sendable {
    var history: [Int]
    var options: DecodingOptions
}

public final class BatchingWorker: @unchecked Sendable {
    let recommender: Recommender
    let maxBatch: Int
    let maxWait: Duration
    let metrics: ServingMetrics?

    private struct Pending {
        var item: WorkItem
        var arrived: ContinuousClock.Instant
        var continuation: CheckedContinuation<Recommendation, any Error>
    }

    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    /// Set when the server starts shutting down: nobody new can join a batch, so none waits.
    private var noMoreCompany = false
    private var finished = false
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []

    public init(recommender: Recommender, maxBatch: Int, maxWait: Duration, metrics: ServingMetrics? = nil) {
        precondition(maxBatch >= 1)
        self.recommender = recommender
        self.maxBatch = maxBatch
        self.maxWait = maxWait
        self.metrics = metrics
        let thread = Thread { [self] in loop() }
        thread.name = "llmrec-model"
        // Deep enough for the model's recursion-free but frame-heavy loops.
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues one request and waits for its ranking.
    func recommend(_ item: WorkItem) async throws -> Recommendation {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else {
                continuation.resume(throwing: APIError(.serviceUnavailable, code: "shutting_down", "the server is shutting down"))
                return
            }
            queue.append(Pending(item: item, arrived: .now, continuation: continuation))
            condition.signal()
        }
    }

    /// Requests queued and not yet taken into a batch.
    public var queued: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// The server turns new requests away from now on: a gathering batch stops waiting for
    /// company and runs at once, so a shutdown does not hold its requests for maxWait.
    public func stopWaitingForCompany() {
        condition.lock()
        defer { condition.unlock() }
        noMoreCompany = true
        condition.broadcast()
    }

    /// Refuses new requests, lets the worker finish what is queued, and returns when it has.
    public func drain() async {
        await withCheckedContinuation { stop(notifying: $0) }
    }

    private func stop(notifying waiter: CheckedContinuation<Void, Never>) {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        if finished {
            waiter.resume()
        } else {
            drainWaiters.append(waiter)
            condition.broadcast()
        }
    }

    private func loop() {
        while let batch = nextBatch() {
            metrics?.recordBatch(size: batch.count)
            run(batch)
        }
    }

    /// The next batch: blocks for a first request, then gathers more until the batch is full or
    /// the first request has waited maxWait. Nil once stopping with nothing left.
    private func nextBatch() -> [Pending]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        if queue.isEmpty {
            finished = true
            for waiter in drainWaiters { waiter.resume() }
            drainWaiters = []
            return nil
        }
        let deadline = Date.now.addingTimeInterval(seconds(maxWait - queue[0].arrived.duration(to: .now)))
        while queue.count < maxBatch && !stopping && !noMoreCompany {
            if !condition.wait(until: deadline) { break }
        }
        let batch = Array(queue.prefix(maxBatch))
        queue.removeFirst(batch.count)
        return batch
    }

    /// Decodes a batch, one beam search per distinct option set, and answers every request.
    private func run(_ batch: [Pending]) {
        var groups: [DecodingOptions: [Int]] = [:]
        for (i, p) in batch.enumerated() { groups[searchOptions(p.item.options), default: []].append(i) }
        for (options, members) in groups {
            do {
                let results = try recommender.recommend(members.map { batch[$0].item.history }, options: options)
                for (m, result) in zip(members, results) {
                    var cut = result
                    cut.items = Array(result.items.prefix(batch[m].item.options.count))
                    batch[m].continuation.resume(returning: cut)
                }
            } catch {
                for m in members { batch[m].continuation.resume(throwing: error) }
            }
        }
    }
}

/// The options a request decodes with, made independent of K: a beam search returns up to B
/// items whatever K is, so requests that differ only in K (with the same B) share one search.
func searchOptions(_ o: DecodingOptions) -> DecodingOptions {
    var shared = o
    shared.count = o.beams
    return shared
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
