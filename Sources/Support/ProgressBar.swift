// A progress bar with rate and ETA for long work, drawn on standard error when it is a
// terminal; silent otherwise, so logs and pipes stay clean. Redraws at most 10 times a second.
import Foundation

public final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let unit: ProgressUnit
    private let enabled: Bool
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var current = 0
    private let lock = NSLock()

    public enum ProgressUnit: Sendable { case items, bytes }

    /// - Parameter enabled: nil draws only when standard error is a terminal.
    public init(label: String, total: Int, unit: ProgressUnit = .items, enabled: Bool? = nil) {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
        self.enabled = enabled ?? (isatty(STDERR_FILENO) == 1)
    }

    public func update(_ done: Int) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        current = done
        let now = DispatchTime.now().uptimeNanoseconds
        // The last draw is finish()'s, so that the full bar is drawn once.
        if now - lastDraw < 100_000_000 || done >= total { return }
        lastDraw = now
        draw(now: now)
    }

    public func finish() {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        current = total
        draw(now: DispatchTime.now().uptimeNanoseconds)
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw(now: UInt64) {
        let elapsed = Double(now - start) / 1e9
        let fraction = min(1, Double(current) / Double(total))
        let width = 28
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let rate = elapsed > 0 ? Double(current) / elapsed : 0
        let eta = rate > 0 ? Double(total - current) / rate : 0
        let line = String(
            format: "\r%@ %@ %3d%% %@ %@ ETA %@ ", label, bar, Int(fraction * 100),
            formatAmount(current, unit), formatRate(rate, unit), formatDuration(eta))
        FileHandle.standardError.write(Data(line.utf8))
    }
}

func formatAmount(_ n: Int, _ unit: ProgressBar.ProgressUnit) -> String {
    switch unit {
    case .items: return "\(n)"
    case .bytes: return String(format: "%.1f MB", Double(n) / 1e6)
    }
}

func formatRate(_ r: Double, _ unit: ProgressBar.ProgressUnit) -> String {
    switch unit {
    // Under one item a second a rate rounds to 0/s: show seconds per item then.
    case .items: return r >= 1 || r <= 0 ? String(format: "%.0f/s", r) : String(format: "%.1f s each", 1 / r)
    case .bytes: return String(format: "%.1f MB/s", r / 1e6)
    }
}

/// "1:05:03" or "5:03".
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--:--" }
    let s = Int(seconds.rounded())
    return s >= 3600
        ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
        : String(format: "%d:%02d", s / 60, s % 60)
}
