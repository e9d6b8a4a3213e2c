// Where a GPU step's time goes, without a profiler on the machine: when a device has a profile,
// every kernel launch and cuBLAS product waits for the device before and after it, and the wall
// time between is added to its name's total. The times include each launch's own cost (a few
// microseconds) and the run is slower than without: for finding the work that matters, never for
// reporting speed (the benchmarks run without one).
import Foundation

public final class CUDAProfile: @unchecked Sendable {
    public struct Entry: Sendable {
        public var calls = 0
        public var seconds = 0.0
    }

    private var entries: [String: Entry] = [:]
    private let lock = NSLock()

    public init() {}

    /// Runs `body` between two synchronizations of `device`, adding its time to `name`.
    func time(_ name: @autoclosure () -> String, device: CUDADevice, _ body: () throws -> Void) throws {
        try device.synchronize()
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        try device.synchronize()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let key = name()
        lock.withLock {
            entries[key, default: Entry()].calls += 1
            entries[key, default: Entry()].seconds += seconds
        }
    }

    /// Every name's total, largest first.
    public var totals: [(name: String, entry: Entry)] {
        lock.withLock { entries.map { ($0.key, $0.value) } }.sorted { ($0.entry.seconds, $1.name) > ($1.entry.seconds, $0.name) }
    }

    /// A table of the `top` largest totals, each divided by `per` (steps, say), with their share of the sum.
    public func table(top: Int, per: Int = 1) -> String {
        let all = totals
        let sum = all.reduce(0) { $0 + $1.entry.seconds }
        var lines = [String(format: "%-44@ %8@ %10@ %9@ %6@", "kernel or product" as NSString, "calls" as NSString,
                            "ms" as NSString, "µs/call" as NSString, "share" as NSString)]
        for (name, e) in all.prefix(top) {
            lines.append(String(format: "%-44@ %8d %10.3f %9.1f %5.1f%%", String(name.prefix(44)) as NSString, e.calls / per,
                                e.seconds * 1000 / Double(per), e.seconds * 1e6 / Double(max(e.calls, 1)), 100 * e.seconds / max(sum, 1e-12)))
        }
        let calls = all.reduce(0) { $0 + $1.entry.calls }
        lines.append(String(format: "%-44@ %8d %10.3f", "all (synchronized, so slower than a real step)" as NSString, calls / per, sum * 1000 / Double(per)))
        return lines.joined(separator: "\n")
    }
}
