// The report's figures, each from committed results only: NDCG@10 per row with its interval,
// training and validation loss per arm, τ for the ATS arms, HR@K for K = 1…20, and the share of
// zero-IG tokens by position in the title.
import Evaluation
import Foundation
import Support

struct ReportFigures {
    let results: StudyResults

    static let captions = [
        "ndcg10.svg": "NDCG@10 per row with its 95% bootstrap interval",
        "train-loss.svg": "Training loss per arm",
        "valid-loss.svg": "Validation loss per arm",
        "tau.svg": "Temperature τ over steps (ATS arms)",
        "hr-at-k.svg": "HR@K for K = 1…20",
        "zero-ig.svg": "Share of zero-IG tokens by position in the response",
        "tokens.svg": "NDCG@10 against training tokens",
    ]
    static let notes = [
        "train-loss.svg": "Each arm's own loss, as it trains (mean of 8 steps): CE, IGD's weighted CE, MSL's masked softmax (times τ with ATS). "
            + "Curves of different losses are not on one scale; within a loss they compare.",
        "valid-loss.svg": "The same losses on the validation windows at each checkpoint.",
        "tau.svg": "Solid: τ as trained. Dashed, for runs that logged it: the τ* each step's batch gave before the clamp to [1.5, 5] "
            + "(the mean over its micro-batches); τ moves only while τ* is above 1.5. "
            + "Arms whose τ stayed at 1.5 share that line: the earlier arm in the plan is drawn wider, under the later.",
        "hr-at-k.svg": "LLM rows stop at their list length (one item per beam); the floors rank the whole catalog.",
        "tokens.svg": "Each arm at the forward training tokens it trained on (log scale; validation not counted), with its 95% bootstrap "
            + "interval; filled: the arm's first decoder, rings: its others (set slightly right). Dashed lines: rows that rank the whole "
            + "catalog without an LLM (popularity, SASRec), at their NDCG@10.",
        "zero-ig.svg": "Over the training split's targets, with the tokenizer of the model: position 0 is the opening quote, "
            + "the last positions are the closing quote and EOS. IGD weights zero-IG tokens by β.",
    ]

    func all() -> [(name: String, svg: String)] {
        var out: [(String, String)] = []
        if !results.rows.isEmpty { out.append(("ndcg10.svg", ndcg())) }
        let logged = results.arms.filter { !$0.log.isEmpty }
        if !logged.isEmpty {
            out.append(("train-loss.svg", loss(validation: false)))
            out.append(("valid-loss.svg", loss(validation: true)))
        }
        if logged.contains(where: { $0.spec.training.ats }) { out.append(("tau.svg", tau())) }
        if !results.rows.isEmpty { out.append(("hr-at-k.svg", hitCurve())) }
        if results.ig != nil { out.append(("zero-ig.svg", zeroIG())) }
        if results.rows.contains(where: { trainingTokens($0) != nil }) { out.append(("tokens.svg", tokens())) }
        return out
    }

    /// The forward tokens a row's model trained on: its log's running total (sequence-era runs)
    /// or, for an imported arm, the count its import states.
    func trainingTokens(_ row: StudyResults.Row) -> Double? {
        if row.source != nil { return results.plan.imports?.trainingTokens?[row.arm].map(Double.init) }
        guard row.kind == .arm, let arm = results.arms.first(where: { $0.spec.name == row.arm }) else { return nil }
        return arm.log.last { $0.kind == .step && $0.value("tokens_total") != nil }?.value("tokens_total")
    }

    func tokens() -> String {
        let metric = Metric(.ndcg, 10)
        let points = results.rows.compactMap { row -> SVGPlot.Point? in
            guard let x = trainingTokens(row) else { return nil }
            let decoders = results.plan.arm(row.arm)?.decoders ?? [results.rows.first { $0.arm == row.arm }?.decoder ?? row.decoder]
            let first = decoders.first == row.decoder
            let values = row.values(metric)
            let c = PairedBootstrap.compare([Double](repeating: 0, count: values.count), values)
            return .init(label: row.label, x: first ? x : x * 1.06, value: c.meanB, low: c.low, high: c.high, color: color(row.arm), hollow: !first)
        }
        let references = results.rows.filter { $0.decoder == ExternalResults.decoder }.map { row in
            (label: row.arm, value: row.record.metrics["ndcg@10"] ?? 0, color: color(row.arm))
        }
        return SVGPlot.scatterLogX(title: "NDCG@10 against training tokens", xLabel: "forward training tokens (log scale)",
                                   yLabel: "NDCG@10", points: points, references: references)
    }

    /// Colour of an arm or floor: its place in the plan, floors after the arms.
    func color(_ arm: String) -> Int {
        let imported = (results.plan.imports?.rows ?? []).filter { !Floor.names.contains($0) }
        let names = results.plan.arms.map(\.name) + Floor.names + results.plan.external.map(\.name) + imported
        return names.firstIndex(of: arm) ?? 0
    }

    func ndcg() -> String {
        let metric = Metric(.ndcg, 10)
        let rows = results.rows.map { row -> (interval: SVGPlot.Interval, external: Bool) in
            let values = row.values(metric)
            let c = PairedBootstrap.compare([Double](repeating: 0, count: values.count), values)
            return (.init(label: "\(row.label) (\(grouped(values.count)))", value: c.meanB, low: c.low, high: c.high, color: color(row.arm)),
                    row.kind == .external)
        }
        var references: [(String, Double)] = []
        if let p = results.row(Floor.popularity.name, ExternalResults.decoder) { references.append((Floor.popularity.name, p.record.metrics["ndcg@10"] ?? 0)) }
        // An external model far above the LLM rows (SASRec) would squeeze their differences into a
        // sliver; the axis then ends at the LLM rows and the external row shows its numbers.
        let ownHigh = rows.filter { !$0.external }.map(\.interval.high).max() ?? 0
        let externalLow = rows.filter(\.external).map(\.interval.low).min() ?? 0
        return SVGPlot.intervals(title: "NDCG@10 on the test windows (windows in brackets)", xLabel: "NDCG@10", rows: rows.map(\.interval),
                                 references: references, axisHigh: ownHigh > 0 && externalLow > 2 * ownHigh ? ownHigh : nil)
    }

    func loss(validation: Bool) -> String {
        let series = results.arms.filter { !$0.log.isEmpty }.map { arm -> SVGPlot.Series in
            let entries = arm.log.filter { $0.kind == (validation ? .validation : .step) }
            var points = entries.compactMap { e in e.value(validation ? "valid_loss" : "loss").map { (x: Double(e.step), y: $0) } }
            if !validation { points = movingMean(points, window: 8) }
            return .init(name: arm.spec.name, points: points, color: color(arm.spec.name))
        }
        return SVGPlot.lines(title: validation ? "Validation loss" : "Training loss (mean of 8 steps)", xLabel: "optimiser step",
                             yLabel: "loss", series: series, markers: validation)
    }

    func tau() -> String {
        let arms = results.arms.filter { $0.spec.training.ats && !$0.log.isEmpty }
        let series = arms.enumerated().flatMap { i, arm in
            let steps = arm.log.filter { $0.kind == .step }
            func points(_ key: String) -> [(x: Double, y: Double)] { steps.compactMap { e in e.value(key).map { (x: Double(e.step), y: $0) } } }
            let tauStar = points("tau_star")
            // Arms whose τ never left 1.5 draw the same line: earlier arms are wider, so each shows.
            let width = 1.8 + 2.4 * Double(arms.count - 1 - i)
            return [SVGPlot.Series(name: arm.spec.name, points: points("tau"), color: color(arm.spec.name), width: width)]
                + (tauStar.isEmpty ? [] : [SVGPlot.Series(name: "\(arm.spec.name) τ*", points: tauStar, dashed: true, color: color(arm.spec.name))])
        }
        return SVGPlot.lines(title: "ATS temperature τ", xLabel: "optimiser step", yLabel: "τ", series: series)
    }

    func hitCurve() -> String {
        // One curve per row on the full set of windows (the rows every arm has), plus the floors.
        let full = results.rows.filter { $0.ranks.count == results.plan.samples.test }
        let series = full.enumerated().map { _, row in
            SVGPlot.Series(name: row.label, points: (1...min(20, row.listLength)).map { k in
                (x: Double(k), y: row.values(Metric(.hr, k)).reduce(0, +) / Double(max(row.ranks.count, 1)))
            }, dashed: row.kind != .arm, color: color(row.arm))
        }
        return SVGPlot.lines(title: "HR@K on all test windows", xLabel: "K", yLabel: "HR@K", series: series, markers: true)
    }

    func zeroIG() -> String {
        let positions = results.ig!.byPosition.filter { $0.tokens > 0 }.prefix(16)
        return SVGPlot.bars(title: String(format: "Zero-IG share of training target tokens by position (all positions: %.1f%%)", 100 * results.ig!.zeroShare),
                            xLabel: "position in the response (0: opening quote)", yLabel: "share of tokens with zero IG",
                            bars: positions.map { (label: "\($0.position)", value: $0.zeroShare) })
    }

    func movingMean(_ points: [(x: Double, y: Double)], window: Int) -> [(x: Double, y: Double)] {
        guard points.count > window else { return points }
        return (0..<points.count).map { i in
            let lo = max(0, i - window + 1)
            let slice = points[lo...i]
            return (x: points[i].x, y: slice.reduce(0) { $0 + $1.y } / Double(slice.count))
        }
    }
}
