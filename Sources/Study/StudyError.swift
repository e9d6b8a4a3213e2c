// What can go wrong with a study, each message naming the file, line or arm and what to do.
import Foundation

public enum StudyError: Error, CustomStringConvertible {
    /// A plan that does not parse or names something unknown: the file, the line, what is wrong.
    case plan(file: String, line: Int, message: String)
    /// Results on disk that another plan (or another version of this arm) produced.
    case changedArm(arm: String, directory: String, differences: [String])
    /// A results directory whose plan is another study's.
    case otherStudy(directory: String, stored: String, now: String)
    case damagedResult(file: String, message: String)
    case missing(String)

    public var description: String {
        switch self {
        case .plan(let file, let line, let message):
            "\(file):\(line): \(message)"
        case .changedArm(let arm, let dir, let diffs):
            "arm '\(arm)' has results in \(dir) from other settings (\(diffs.joined(separator: "; "))). "
                + "Restore the plan's settings for '\(arm)', give the changed arm a new name, or start it fresh with "
                + "`llmrec study run PLAN --out DIR --restart \(arm)` (which deletes its results and run)"
        case .otherStudy(let dir, let stored, let now):
            "\(dir) holds results of another study (\(stored), this plan: \(now)); choose another --out"
        case .damagedResult(let file, let message):
            "\(file): \(message); delete it and run `llmrec study run` again to redo that part"
        case .missing(let what):
            what
        }
    }
}
