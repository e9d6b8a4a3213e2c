// The measure every GPU-against-reference comparison reports: ‖got − want‖ / ‖want‖ over a whole
// tensor (element-wise relative error means nothing for entries near zero).

/// ‖got − want‖ / ‖want‖, summed in Double.
public func relativeDifference<A: Collection<Float>, B: Collection<Float>>(_ got: A, _ want: B) -> Double {
    var diff = 0.0, norm = 0.0
    for (a, b) in zip(got, want) {
        diff += Double(a - b) * Double(a - b)
        norm += Double(b) * Double(b)
    }
    return (diff / max(norm, 1e-30)).squareRoot()
}
