// A sample as the dataset builder makes it: user and item numbers before they are written.

/// One training or evaluation example: up to H previous items (oldest first) and the next one.
public struct Sample: Sendable, Equatable {
    public var user: Int32
    public var history: [Int32]
    public var target: Int32
    public var timestamp: Double

    public init(user: Int32, history: [Int32], target: Int32, timestamp: Double) {
        self.user = user
        self.history = history
        self.target = target
        self.timestamp = timestamp
    }
}
