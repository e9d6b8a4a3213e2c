// The report's pre-registered checks on twins of the baseline: arms that repeat its training
// with one thing changed that should not matter — bf16 mixed precision, or the GPU instead of
// the CPU. Each twin's NDCG@10 must lie within the paired 95% interval around the baseline's
// (the interval of the difference must include 0); the rule says what follows either way, and it
// was fixed before the twin ran.
import Evaluation
import Foundation
import Support

extension StudyReport {
    /// Whether bf16 changes the result, and so whether bf16 may be used for further arms.
    func precisionCheck() -> String {
        let plan = results.plan
        guard let baseline = plan.arm(plan.baseline), baseline.training.precision != .bf16 else { return "" }
        let twins = plan.arms.filter { arm in
            var fp32 = arm.training
            fp32.precision = baseline.training.precision
            return arm.training.precision == .bf16 && fp32 == baseline.training
        }
        guard !twins.isEmpty else { return "" }
        var md = "## bf16 check\n\n"
        md += "Pre-registered: an arm that repeats \(plan.baseline)'s training in bf16 mixed precision (and evaluates in bf16) must give an "
            + "NDCG@10 within the paired 95% interval around \(plan.baseline)'s (fp32) on the same test windows, i.e. the interval of "
            + "the difference must include 0; only then may bf16 be used for further arms.\n\n"
        for twin in twins {
            guard let (text, c) = twinDifference(twin) else {
                md += "\(twin.name): not evaluated yet.\n\n"
                continue
            }
            md += text
            guard c.low <= 0 && c.high >= 0 else {
                md += "The interval excludes 0: **bf16 changes the result here; further arms stay in fp32**.\n\n"
                continue
            }
            md += "The interval includes 0: **bf16 may be used for further arms**" + withinSeedGap(c) + ". "
            let further = plan.arms.filter { $0.training.precision == .bf16 && !twins.map(\.name).contains($0.name) }
            guard !further.isEmpty else {
                md += "This study keeps its other arms in fp32 all the same, so that they compare with the baseline without a second change.\n\n"
                continue
            }
            md += "Arms in bf16 besides \(twin.name): " + further.map(\.name).joined(separator: ", ") + ". Each is compared with "
                + "\(plan.baseline) like every arm, and here also with \(twin.name), trained in the same precision, NDCG@10:\n\n"
            md += againstTwin(twin, arms: further.map(\.name))
        }
        return md
    }

    /// One line per arm that has results: "- ARM − TWIN (decoder, n windows): difference [interval]",
    /// on the twin's first decoder; a blank line after.
    func againstTwin(_ twin: ArmSpec, arms: [String]) -> String {
        var md = ""
        for name in arms {
            guard let decoder = twin.decoders.first, let a = results.row(twin.name, decoder), let b = results.row(name, decoder) else { continue }
            let d = paired(a, b, Metric(.ndcg, 10))
            md += "- \(name) − \(twin.name) (\(decoder), \(grouped(common(a, b))) windows): \(signed(d.difference)) \(interval(d))\n"
        }
        return md.isEmpty ? "None of them is evaluated yet.\n\n" : md + "\n"
    }

    /// Whether the device an arm trained and was evaluated on changes the result, and so whether
    /// arms trained on a GPU compare with a baseline trained on the CPU.
    func backendCheck() -> String {
        let plan = results.plan
        guard let baseline = plan.arm(plan.baseline) else { return "" }
        let twins = plan.arms.filter { $0.device != nil && $0.training == baseline.training }
        guard !twins.isEmpty else { return "" }
        var md = "## Backend check\n\n"
        for twin in twins {
            let device = twin.device == .cuda ? "a GPU (`--device cuda`)" : "the CPU"
            md += "Pre-registered: \(twin.name) repeats \(plan.baseline)'s training on \(device) and must give an NDCG@10 within the paired 95% "
                + "interval around \(plan.baseline)'s on the same test windows (the interval of the difference must include 0). If it does, arms "
                + "trained on either device compare with \(plan.baseline); if not, each arm trained there is also compared with \(twin.name), below.\n\n"
            guard let (text, c) = twinDifference(twin) else {
                md += "\(twin.name): not evaluated yet (only a run on that device trains it).\n\n"
                continue
            }
            md += text
            if c.low <= 0 && c.high >= 0 {
                md += "The interval includes 0: **the device does not change the result here**" + withinSeedGap(c) + ".\n\n"
                continue
            }
            md += "The interval excludes 0: **the device changes the result here**. The arms trained there against \(twin.name), NDCG@10:\n\n"
            let twinDevice = results.arms.first { $0.spec.name == twin.name }?.training?.device
            md += againstTwin(twin, arms: results.arms.filter { $0.spec.name != twin.name && $0.training?.device != nil && $0.training?.device == twinDevice }.map(\.spec.name))
        }
        let elsewhere = results.arms.compactMap { arm in arm.training?.device.map { "\(arm.spec.name) (\($0))" } }
        md += elsewhere.isEmpty ? "So far every arm trained on the CPU.\n\n"
            : "Arms trained on a GPU: " + elsewhere.joined(separator: ", ") + "; the others trained so far on the CPU.\n\n"
        return md
    }

    /// "TWIN − BASELINE (decoder, n windows): NDCG@10 … against …, difference … [interval]; final
    /// validation loss … against …. " and the comparison; nil until both are evaluated.
    func twinDifference(_ twin: ArmSpec) -> (String, PairedComparison)? {
        let plan = results.plan
        guard let baseline = plan.arm(plan.baseline), let decoder = baseline.decoders.first,
              let a = results.row(plan.baseline, decoder), let b = results.row(twin.name, decoder) else { return nil }
        let n = common(a, b)
        let c = paired(a, b, Metric(.ndcg, 10))
        let valid = [plan.baseline, twin.name].map { name in results.arms.first { $0.spec.name == name }?.training?.finalValidLoss }
        let text = "\(twin.name) − \(plan.baseline) (\(decoder), \(grouped(n)) windows): NDCG@10 \(f4(c.meanB)) against \(f4(c.meanA)), "
            + "difference \(signed(c.difference)) \(interval(c)); final validation loss \(f4(valid[1])) against \(f4(valid[0])). "
        return (text, c)
    }

    /// " (the difference is within the seed gap of …)", once the noise floor exists. Both sizes
    /// are compared as printed (four decimals), so the words never contradict the numbers.
    func withinSeedGap(_ c: PairedComparison) -> String {
        seedGap(Metric(.ndcg, 10)).map { gap in
            let printed = { (x: Double) in (abs(x) * 10_000).rounded() }
            let d = printed(c.difference), g = printed(gap.comparison.difference)
            let relation = d == 0 || d < g ? "within" : d == g ? "as large as" : "beyond"
            return " (the difference is \(relation) the seed gap of \(signed(gap.comparison.difference)))"
        } ?? ""
    }
}
