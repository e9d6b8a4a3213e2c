// What /metrics reports, in Prometheus' text format: requests and errors by route and status,
// request latency, and how many requests each beam search decoded together.
import Foundation
import Prometheus

public final class ServingMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let batchSizes: ValueHistogram

    static var requests: MetricNameDescriptor { MetricNameDescriptor(namespace: "llmrec", metricName: "http_requests", unitName: "total",
                                               helpText: "HTTP requests answered, by route and status.") }
    static var errors: MetricNameDescriptor { MetricNameDescriptor(namespace: "llmrec", metricName: "http_errors", unitName: "total",
                                             helpText: "HTTP requests answered with a 4xx or 5xx status, by route and status.") }
    static var latency: MetricNameDescriptor { MetricNameDescriptor(namespace: "llmrec", metricName: "http_request_duration", unitName: "seconds",
                                              helpText: "Time from a request's arrival to its response, by route.") }
    static var disconnects: MetricNameDescriptor { MetricNameDescriptor(namespace: "llmrec", metricName: "http_client_disconnects", unitName: "total",
                                                  helpText: "Requests whose client went away before the body was complete (nothing is answered), by route.") }
    static let latencyBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30].map { .milliseconds(Int($0 * 1000)) }

    public init() {
        batchSizes = registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(namespace: "llmrec", metricName: "batch_size", unitName: "requests",
                                             helpText: "Recommendation requests decoded together in one beam search."),
            labels: [], buckets: [1, 2, 4, 8, 16, 32, 64])
    }

    /// Counts one answered request. `route` is the matched route (not the raw path), so the label
    /// set stays small whatever clients send.
    func record(route: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("status", String(status))]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        if status >= 400 { registry.makeCounter(descriptor: Self.errors, labels: labels).increment() }
        registry.makeDurationHistogram(descriptor: Self.latency, labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    func recordDisconnect(route: String) {
        registry.makeCounter(descriptor: Self.disconnects, labels: [("route", route)]).increment()
    }

    func recordBatch(size: Int) { batchSizes.record(Double(size)) }

    public func text() -> String { registry.emitToString() }
}
