// A seedable random number generator with the same sequence on every platform, so that
// subsampling and shuffling are reproducible from the seed written in a run's config.
// Not cryptographic. SplitMix64 expands the seed; xoshiro256** produces the stream.

public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A uniform integer in 0..<bound without modulo bias (Lemire's method), identical
    /// on every platform, unlike the standard library's unspecified algorithm.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool {
        a.state.0 == b.state.0 && a.state.1 == b.state.1 && a.state.2 == b.state.2 && a.state.3 == b.state.3
    }

    enum CodingKeys: String, CodingKey { case state }
    public init(from decoder: Decoder) throws {
        let s = try decoder.container(keyedBy: CodingKeys.self).decode([UInt64].self, forKey: .state)
        guard s.count == 4 else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.state], debugDescription: "expected 4 words"))
        }
        state = (s[0], s[1], s[2], s[3])
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([state.0, state.1, state.2, state.3], forKey: .state)
    }
}

extension SeededGenerator {
    /// `count` distinct indices from 0..<n, chosen uniformly, returned in increasing order.
    public mutating func sampleIndices(_ count: Int, from n: Int) -> [Int] {
        precondition(count >= 0 && count <= n)
        var pool = Array(0..<n)
        for i in 0..<count {
            let j = i + below(n - i)
            pool.swapAt(i, j)
        }
        return pool[0..<count].sorted()
    }
}
