// The API's request and response bodies, and the checks that turn a request into work for the
// model. Every refusal names the field and what was expected.
import APIRequests
import Decoding
import Foundation
import Hummingbird
import RecData
import Support

/// Server-wide limits and decoding defaults (from `llmrec serve`'s options).
public struct ServeSettings: Sendable {
    /// Decoding defaults: beams per search (a request asking for more items gets one beam per
    /// item), length penalty, and the IGD alpha and mask-softmax a request may override. Its
    /// `count` is unused: each request gives its own k.
    public var decoding = DecodingOptions()
    /// Largest k a request may ask for (also capped by the catalog size).
    public var maxK = 100
    /// Most history items a request may send.
    public var maxHistory = 100
    /// Largest request body, bytes.
    public var maxBodyBytes = 64 * 1024
    public var maxBatch = 16
    public var maxWait: Duration = .milliseconds(5)
    /// Time a connection may stay silent (slow or idle clients) before it is closed.
    public var idleTimeout: Duration = .seconds(30)

    public init() {}
}

struct RecommendedItem: Codable, Equatable {
    var id: Int
    var title: String
    var score: Double
    /// The dataset's own item ids merged into this catalog entry (several when titles repeat).
    var source_ids: [String]
}

struct RecommendResponse: Codable {
    var items: [RecommendedItem]
    var model: String
    var latency_ms: Double
    /// History items left out, oldest first, so that the prompt fits the model's context.
    var dropped_history: Int
}

struct CatalogMatch: Codable, Equatable {
    var id: Int
    var title: String
}

struct ItemsResponse: Codable {
    var items: [CatalogMatch]
}

struct HealthResponse: Codable {
    var status: String
    var model: String
    var catalog_items: Int
}

extension RecommendRequest {
    /// The request as work for the model, or the reason it cannot be.
    func work(recommender: Recommender, titles lookup: TitleLookup, settings: ServeSettings) async throws -> WorkItem {
        let catalog = recommender.catalog
        let history: [Int]
        switch (self.history, history_ids) {
        case (nil, nil), (.some, .some):
            throw APIError.invalid("give the history as exactly one of `history` (titles) or `history_ids` (catalog ids)")
        case (let titles?, nil):
            try Self.checkLength(titles.count, settings: settings)
            switch await lookup.items(titled: titles) {
            case .success(let items): history = items
            case .failure(let unknown):
                throw APIError(.unprocessableContent, code: "unknown_titles", Self.message(unknown: unknown.titles.map(\.title)), unknownTitles: unknown.titles)
            }
        case (nil, let ids?):
            try Self.checkLength(ids.count, settings: settings)
            let bad = ids.filter { !(0..<catalog.count).contains($0) }
            guard bad.isEmpty else {
                throw APIError(.unprocessableContent, code: "unknown_ids", "history_ids \(bad.prefix(10).map(String.init).joined(separator: ", ")) are not catalog ids (0..<\(catalog.count))")
            }
            history = ids
        }
        let kMax = min(settings.maxK, catalog.count)
        let k = self.k ?? min(10, kMax)
        guard (1...max(kMax, 1)).contains(k) else { throw APIError.invalid("`k` must be in 1...\(kMax), got \(k)") }
        var options = settings.decoding
        options.igdAlpha = igd_alpha ?? options.igdAlpha
        guard DecodingOptions.igdAlphaRange.contains(options.igdAlpha) else {
            throw APIError.invalid("`igd_alpha` must be in [0, 1], got \(options.igdAlpha)")
        }
        options.maskSoftmax = mask_softmax ?? options.maskSoftmax
        options.beams = max(options.beams, k)
        options.count = k
        return WorkItem(history: history, options: options)
    }

    /// Names the first five unknown titles, quoted and cut, and counts the rest.
    static func message(unknown titles: [String]) -> String {
        let shown = titles.prefix(5).map { quoted($0) }.joined(separator: ", ")
        let more = titles.count > 5 ? " and \(titles.count - 5) more" : ""
        return "not catalog titles: \(shown)\(more); see `unknown_titles` for the closest ones"
    }

    static func checkLength(_ n: Int, settings: ServeSettings) throws {
        if n == 0 { throw APIError(.unprocessableContent, code: "empty_history", "the history is empty: the model recommends from what the user has seen") }
        if n > settings.maxHistory {
            throw APIError(.unprocessableContent, code: "history_too_long", "the history has \(n) items; this server takes at most \(settings.maxHistory)")
        }
    }
}
