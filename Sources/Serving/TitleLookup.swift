// Catalog titles for requests. Known titles are hash lookups. Suggestions for unknown titles
// cost more (TitleIndex bounds it), so they run one request at a time on their own thread:
// a burst of requests full of unknown titles queues there instead of holding the threads that
// answer everyone else; once `maxWaiting` such requests wait, more get the error without
// suggestions.
import Dispatch
import RecData
import Synchronization

final class TitleLookup: Sendable {
    let index: TitleIndex
    private let queue = DispatchQueue(label: "llmrec-suggestions")
    private let waiting = Atomic<Int>(0)
    static let maxWaiting = 8

    init(titles: [String]) {
        index = TitleIndex(titles: titles)
    }

    func items(titled titles: [String]) async -> Result<[Int], UnknownTitlesError> {
        let items = titles.compactMap { index.item(titled: $0) }
        if items.count == titles.count { return .success(items) }
        guard waiting.add(1, ordering: .relaxed).newValue <= Self.maxWaiting else {
            waiting.subtract(1, ordering: .relaxed)
            return .failure(UnknownTitlesError(titles: titles.filter { index.item(titled: $0) == nil }.map { UnknownTitle(title: $0, suggestions: []) }))
        }
        return await withCheckedContinuation { continuation in
            queue.async { [self] in
                continuation.resume(returning: index.items(titled: titles))
                waiting.subtract(1, ordering: .relaxed)
            }
        }
    }
}
