// Learning-rate schedules as transformers defines them (optimization.py), so runs compare
// step for step with the reference implementations: linear warm-up from 0 over `warmup` steps,
// then cosine decay to 0 at `total` steps, or constant.
import Foundation

public enum LRSchedule: String, Sendable, Codable, CaseIterable {
    case cosine, constant

    /// The learning rate at 0-based `step` (the rate used for the update that makes step + 1).
    public func rate(step: Int, peak: Double, warmup: Int, total: Int) -> Double {
        if step < warmup { return peak * Double(step) / Double(max(1, warmup)) }
        switch self {
        case .constant:
            return peak
        case .cosine:
            let progress = Double(step - warmup) / Double(max(1, total - warmup))
            return peak * max(0, 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}

