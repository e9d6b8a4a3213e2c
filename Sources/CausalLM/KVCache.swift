// Keys and values of every layer for a number of sequence slots, so decoding one more token
// costs one row instead of the whole prefix. Layout per layer: (slots, capacity, KVH·D).

public final class KVCache: @unchecked Sendable {
    public let slots: Int
    public let capacity: Int
    /// Floats per cached position in each layer (KVH·D).
    let rowWidth: Int
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    /// Positions filled in each slot.
    public internal(set) var lengths: [Int]

    public init(config: ModelConfig, slots: Int, capacity: Int) {
        self.slots = slots
        self.capacity = min(capacity, config.maxPositions)
        rowWidth = config.kvHeads * config.headDim
        let size = slots * self.capacity * rowWidth
        keys = (0..<config.layers).map { _ in .allocate(capacity: max(size, 1)) }
        values = (0..<config.layers).map { _ in .allocate(capacity: max(size, 1)) }
        lengths = Array(repeating: 0, count: slots)
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// Slot `slot` starts with the first `length` positions of `source`'s slot `from`, and holds
    /// nothing after them: a shared prompt header, encoded once, continued by each prompt.
    public func start(_ slot: Int, withPrefixOf source: KVCache, slot from: Int, length: Int) {
        precondition(length <= source.lengths[from] && length <= capacity && rowWidth == source.rowWidth && keys.count == source.keys.count)
        for l in keys.indices {
            (keys[l] + slot * capacity * rowWidth).update(from: source.keys[l] + from * source.capacity * rowWidth, count: length * rowWidth)
            (values[l] + slot * capacity * rowWidth).update(from: source.values[l] + from * source.capacity * rowWidth, count: length * rowWidth)
        }
        lengths[slot] = length
    }

    /// Forgets slot `s` (its memory is reused).
    public func reset(_ s: Int) { lengths[s] = 0 }
    public func resetAll() { lengths = Array(repeating: 0, count: slots) }
}
