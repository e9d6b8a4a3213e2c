// A scatter chart for the study report: a point per row with its vertical 95% interval over a
// log₁₀ x axis (training tokens), and labelled horizontal lines for results that have no x (a
// floor, a classic model). Same fixed sizes and two decimals as SVGPlot, so the same numbers give
// the same bytes.
import Foundation

extension SVGPlot {
    public struct Point {
        public var label: String
        public var x: Double
        public var value: Double
        public var low: Double
        public var high: Double
        public var color: Int
        /// Drawn as a ring rather than a dot (a second decoder of the same arm).
        public var hollow: Bool

        public init(label: String, x: Double, value: Double, low: Double, high: Double, color: Int, hollow: Bool = false) {
            self.label = label
            self.x = x
            self.value = value
            self.low = low
            self.high = high
            self.color = color
            self.hollow = hollow
        }
    }

    /// Points (x > 0) with their intervals over a log axis, and horizontal reference lines.
    public static func scatterLogX(title: String, xLabel: String, yLabel: String, points: [Point],
                                   references: [(label: String, value: Double, color: Int)], height: Double = 400) -> String {
        let xs = points.map(\.x).filter { $0 > 0 }
        let lo = floor(log10(xs.min() ?? 1) - 0.05), hi = ceil(log10(xs.max() ?? 10) + 0.05)
        let tops = points.map(\.high) + references.map(\.value)
        let (yTicks, _, yMax) = niceTicks(0, tops.max() ?? 1, integers: false)
        let frame = Frame(height: height, xMin: lo, xMax: hi, yMin: 0, yMax: yMax)
        var ticks: [Double] = []
        for decade in Int(lo)...Int(hi) {
            for m in [1.0, 2, 5] where m * pow(10, Double(decade)) <= pow(10, hi) + 1e-9 { ticks.append(m * pow(10, Double(decade))) }
        }
        var out = header(height: height, title: title)
        out += frame.axes(xTicks: [], yTicks: yTicks, xLabel: xLabel, yLabel: yLabel)
        for t in ticks {
            let x = frame.px(log10(t))
            out += "<line x1=\"\(f(x))\" y1=\"\(f(frame.bottom))\" x2=\"\(f(x))\" y2=\"\(f(frame.bottom + 4))\" stroke=\"#333\"/>\n"
            out += text(x, frame.bottom + 17, countLabel(t), anchor: "middle")
        }
        for (i, r) in references.enumerated() {
            let y = frame.py(r.value), color = palette[r.color % palette.count]
            out += "<line x1=\"\(f(plotLeft))\" y1=\"\(f(y))\" x2=\"\(f(frame.right))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"1.6\" stroke-dasharray=\"6 4\"/>\n"
            // Above the line, or below it where the line runs along the top.
            let labelY = y - 4 - Double(i % 2) * 11 < plotTop + 4 ? y + 12 : y - 4 - Double(i % 2) * 11
            out += text(frame.right - 4, labelY, "\(r.label) \(tickLabel((r.value * 10_000).rounded() / 10_000))", anchor: "end", size: 10)
        }
        for p in points where p.x > 0 {
            let x = frame.px(log10(p.x)), color = palette[p.color % palette.count]
            out += "<line x1=\"\(f(x))\" y1=\"\(f(frame.py(p.low)))\" x2=\"\(f(x))\" y2=\"\(f(frame.py(p.high)))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            out += p.hollow
                ? "<circle cx=\"\(f(x))\" cy=\"\(f(frame.py(p.value)))\" r=\"4\" fill=\"white\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
                : "<circle cx=\"\(f(x))\" cy=\"\(f(frame.py(p.value)))\" r=\"4\" fill=\"\(color)\"/>\n"
        }
        out += legend(points.map { ($0.label, $0.color, $0.hollow) }, top: plotTop)
        return out + "</svg>\n"
    }

    /// 2000000 → "2M", 500000 → "500k".
    static func countLabel(_ n: Double) -> String {
        n >= 1e9 ? "\(tickLabel(n / 1e9))G" : n >= 1e6 ? "\(tickLabel(n / 1e6))M" : n >= 1e3 ? "\(tickLabel(n / 1e3))k" : tickLabel(n)
    }
}
