// Small SVG charts for the study report, written by hand so that the same numbers always give
// the same bytes (fixed sizes, fixed palette, two decimals): line charts (loss, τ, HR@K),
// interval charts (a point and its 95% interval per row) and bar charts (zero-IG share).
import Foundation

public enum SVGPlot {
    /// A categorical palette that stays apart in colour and in grey: Tableau 10, then a dark grey
    /// and near-black, so that a plan of nine arms keeps its floors and an external result apart
    /// from its arms.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
                          "#6b6360", "#222222"]

    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var dashed: Bool
        public var color: Int
        /// Stroke width; a wider line drawn first stays visible under a later one on the same values.
        public var width: Double
        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, color: Int, width: Double = 1.8) {
            self.name = name
            self.points = points
            self.dashed = dashed
            self.color = color
            self.width = width
        }
    }

    public struct Interval {
        public var label: String
        public var value: Double
        public var low: Double
        public var high: Double
        public var color: Int
        public init(label: String, value: Double, low: Double, high: Double, color: Int) {
            self.label = label
            self.value = value
            self.low = low
            self.high = high
            self.color = color
        }
    }

    static let width = 720.0, plotLeft = 70.0, plotTop = 40.0, legendWidth = 190.0

    /// Lines (with markers when `markers`) over a shared x axis.
    public static func lines(title: String, xLabel: String, yLabel: String, series: [Series], markers: Bool = false,
                             xIntegers: Bool = true, height: Double = 380) -> String {
        let all = series.flatMap(\.points)
        let (xTicks, xMin, xMax) = niceTicks(all.map(\.x).min() ?? 0, all.map(\.x).max() ?? 1, integers: xIntegers)
        let (yTicks, yMin, yMax) = niceTicks(all.map(\.y).min() ?? 0, all.map(\.y).max() ?? 1, integers: false)
        let frame = Frame(height: height, xMin: xMin, xMax: xMax, yMin: yMin, yMax: yMax)
        var out = header(height: height, title: title)
        out += frame.axes(xTicks: xTicks, yTicks: yTicks, xLabel: xLabel, yLabel: yLabel)
        for s in series where !s.points.isEmpty {
            let color = palette[s.color % palette.count]
            let path = s.points.map { "\(f(frame.px($0.x))),\(f(frame.py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(f(s.width))\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(path)\"/>\n"
            if markers || s.points.count == 1 {
                for p in s.points {
                    out += "<circle cx=\"\(f(frame.px(p.x)))\" cy=\"\(f(frame.py(p.y)))\" r=\"2.6\" fill=\"\(color)\"/>\n"
                }
            }
        }
        out += legend(series.map { ($0.name, $0.color, $0.dashed) }, top: plotTop)
        return out + "</svg>\n"
    }

    /// One row per interval: the point and a horizontal bar from low to high; `reference`
    /// draws a labelled vertical line (e.g. a floor). With `axisHigh`, the axis ends there: a row
    /// beyond it is cut at the edge, and one whose point lies beyond it shows its value in words.
    public static func intervals(title: String, xLabel: String, rows: [Interval], references: [(label: String, value: Double)] = [],
                                 axisHigh: Double? = nil) -> String {
        let rowHeight = 26.0
        let height = plotTop + Double(rows.count) * rowHeight + 60
        let lows = rows.map(\.low) + references.map(\.value), highs = rows.map(\.high) + references.map(\.value)
        let (xTicks, xMin, xMax) = niceTicks(min(lows.min() ?? 0, 0), axisHigh ?? highs.max() ?? 1, integers: false)
        let labelWidth = 230.0
        let left = labelWidth, right = width - 30
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * (right - left) }
        var out = header(height: height, title: title)
        let bottom = plotTop + Double(rows.count) * rowHeight
        out += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\" stroke=\"#333\"/>\n"
        for t in xTicks {
            out += "<line x1=\"\(f(px(t)))\" y1=\"\(f(plotTop - 6))\" x2=\"\(f(px(t)))\" y2=\"\(f(bottom))\" stroke=\"#e4e4e4\"/>\n"
            out += text(px(t), bottom + 16, tickLabel(t), anchor: "middle")
        }
        out += text((left + right) / 2, bottom + 38, xLabel, anchor: "middle")
        for (i, r) in references.enumerated() {
            out += "<line x1=\"\(f(px(r.value)))\" y1=\"\(f(plotTop - 6))\" x2=\"\(f(px(r.value)))\" y2=\"\(f(bottom))\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n"
            out += text(px(r.value) + 3, plotTop - 8 - Double(i % 2) * 11, r.label, anchor: "start", size: 10)
        }
        for (i, r) in rows.enumerated() {
            let y = plotTop + (Double(i) + 0.5) * rowHeight
            let color = palette[r.color % palette.count]
            out += text(left - 8, y + 4, r.label, anchor: "end")
            if r.value > xMax {
                // Off the axis: an arrow at the edge and the numbers, so the rest keep their scale.
                out += "<line x1=\"\(f(px(min(r.low, xMax))))\" y1=\"\(f(y))\" x2=\"\(f(right))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"2.2\"/>\n"
                out += "<polygon points=\"\(f(right)),\(f(y - 5)) \(f(right + 9)),\(f(y)) \(f(right)),\(f(y + 5))\" fill=\"\(color)\"/>\n"
                out += text(right - 4, y - 5, "off the axis: \(tickLabel(r.value)) [\(tickLabel(r.low)), \(tickLabel(r.high))]", anchor: "end", size: 10)
                continue
            }
            out += "<line x1=\"\(f(px(r.low)))\" y1=\"\(f(y))\" x2=\"\(f(px(min(r.high, xMax))))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"2.2\"/>\n"
            out += "<circle cx=\"\(f(px(r.value)))\" cy=\"\(f(y))\" r=\"4\" fill=\"\(color)\"/>\n"
        }
        return out + "</svg>\n"
    }

    /// Vertical bars, one per category.
    public static func bars(title: String, xLabel: String, yLabel: String, bars: [(label: String, value: Double)], height: Double = 340) -> String {
        let (yTicks, _, yMax) = niceTicks(0, bars.map(\.value).max() ?? 1, integers: false)
        let frame = Frame(height: height, xMin: 0, xMax: Double(max(bars.count, 1)), yMin: 0, yMax: yMax, right: width - 30)
        var out = header(height: height, title: title)
        out += frame.axes(xTicks: [], yTicks: yTicks, xLabel: xLabel, yLabel: yLabel)
        let slot = (frame.right - plotLeft) / Double(max(bars.count, 1))
        for (i, b) in bars.enumerated() {
            let x = plotLeft + Double(i) * slot + slot * 0.15
            let top = frame.py(b.value)
            out += "<rect x=\"\(f(x))\" y=\"\(f(top))\" width=\"\(f(slot * 0.7))\" height=\"\(f(frame.bottom - top))\" fill=\"\(palette[0])\"/>\n"
            out += text(x + slot * 0.35, frame.bottom + 16, b.label, anchor: "middle", size: 10)
        }
        return out + "</svg>\n"
    }

    // MARK: - Pieces

    struct Frame {
        var height: Double
        var xMin: Double, xMax: Double, yMin: Double, yMax: Double
        var right = SVGPlot.width - SVGPlot.legendWidth
        var bottom: Double { height - 50 }
        func px(_ x: Double) -> Double { plotLeft + (x - xMin) / max(xMax - xMin, 1e-12) * (right - plotLeft) }
        func py(_ y: Double) -> Double { bottom - (y - yMin) / max(yMax - yMin, 1e-12) * (bottom - plotTop) }

        func axes(xTicks: [Double], yTicks: [Double], xLabel: String, yLabel: String) -> String {
            var out = ""
            for t in yTicks {
                out += "<line x1=\"\(f(plotLeft))\" y1=\"\(f(py(t)))\" x2=\"\(f(right))\" y2=\"\(f(py(t)))\" stroke=\"#e4e4e4\"/>\n"
                out += text(plotLeft - 6, py(t) + 4, tickLabel(t), anchor: "end")
            }
            for t in xTicks {
                out += "<line x1=\"\(f(px(t)))\" y1=\"\(f(bottom))\" x2=\"\(f(px(t)))\" y2=\"\(f(bottom + 4))\" stroke=\"#333\"/>\n"
                out += text(px(t), bottom + 17, tickLabel(t), anchor: "middle")
            }
            out += "<line x1=\"\(f(plotLeft))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\" stroke=\"#333\"/>\n"
            out += "<line x1=\"\(f(plotLeft))\" y1=\"\(f(plotTop))\" x2=\"\(f(plotLeft))\" y2=\"\(f(bottom))\" stroke=\"#333\"/>\n"
            out += text((plotLeft + right) / 2, bottom + 38, xLabel, anchor: "middle")
            let cy = (plotTop + bottom) / 2
            out += "<text x=\"16\" y=\"\(f(cy))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(cy)))\">\(escape(yLabel))</text>\n"
            return out
        }
    }

    static func header(height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" "
            + "font-family=\"Helvetica, Arial, sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + text(width / 2, 22, title, anchor: "middle", size: 14, bold: true)
    }

    static func legend(_ entries: [(String, Int, Bool)], top: Double) -> String {
        var out = ""
        let x = width - legendWidth + 14
        for (i, (name, color, dashed)) in entries.enumerated() {
            let y = top + 8 + Double(i) * 18
            out += "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 22))\" y2=\"\(f(y))\" stroke=\"\(palette[color % palette.count])\" stroke-width=\"2.2\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
            out += text(x + 28, y + 4, name, anchor: "start", size: 11)
        }
        return out
    }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String, size: Int = 11, bold: Bool = false) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\"\(bold ? " font-weight=\"bold\"" : "")>\(escape(s))</text>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func f(_ x: Double) -> String { String(format: "%.2f", x) }

    static func tickLabel(_ t: Double) -> String {
        if t == t.rounded(), abs(t) < 1e6 { return String(Int(t)) }
        var s = String(format: "%.4f", t)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    /// About five round tick values covering [lo, hi], and the axis range they span.
    static func niceTicks(_ lo: Double, _ hi: Double, integers: Bool) -> ([Double], Double, Double) {
        var lo = lo, hi = hi
        if !(hi > lo) { hi = lo + (lo == 0 ? 1 : abs(lo) * 0.1) }
        let raw = (hi - lo) / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integers { step = max(1, step.rounded(.up)) }
        lo = (lo / step).rounded(.down) * step
        hi = (hi / step).rounded(.up) * step
        var ticks: [Double] = []
        var t = lo
        while t <= hi + step * 1e-9 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return (ticks, lo, hi)
    }
}
