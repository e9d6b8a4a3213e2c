// Progress lines for a study's long phases: "[ce] train 40/256 (16%) · loss 1.92, 318 tokens/s ·
// ETA 1:02:13". A study runs for hours, usually in the background with its output in a file,
// so it prints whole lines (at most one a minute, and at the end) rather than redrawing a bar.
// The ETA counts only this sitting's pace (a resumed phase starts from where it was).
import Foundation
import Support

final class PhaseProgress {
    let label: String
    let total: Int
    let startDone: Int
    let say: (String) -> Void
    let start = Date()
    var lastLine = Date.distantPast
    let interval: TimeInterval

    init(label: String, total: Int, done: Int, say: @escaping (String) -> Void, interval: TimeInterval = 60) {
        self.label = label
        self.total = max(total, 1)
        startDone = done
        self.say = say
        self.interval = interval
    }

    func update(_ done: Int, detail: String) {
        let now = Date()
        guard now.timeIntervalSince(lastLine) >= interval || done >= total else { return }
        lastLine = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(done - startDone) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : .nan
        say("\(label) \(done)/\(total) (\(Int(100 * Double(done) / Double(total)))%) · \(detail) · "
            + (done >= total ? "took \(formatDuration(elapsed))" : "ETA \(formatDuration(eta))"))
    }
}
