// The report's hand-written SVG: an interval chart cut at `axisHigh` keeps every mark inside the
// plot and names the off-axis row's numbers; line widths reach the SVG.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Study

@Suite struct SVGPlotTests {
    let rows = [
        SVGPlot.Interval(label: "ce", value: 0.0119, low: 0.0100, high: 0.0138, color: 0),
        SVGPlot.Interval(label: "sasrec", value: 0.0790, low: 0.0733, high: 0.0848, color: 1),
    ]

    /// Every x coordinate the chart draws at (x, x1, x2, cx and polygon points).
    func xCoordinates(_ svg: String) -> [Double] {
        let pattern = try! NSRegularExpression(pattern: #"\b(?:x|x1|x2|cx)="([0-9.]+)"|points="([^"]+)""#)
        return pattern.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).flatMap { m -> [Double] in
            if let r = Range(m.range(at: 1), in: svg) { return [Double(svg[r])!] }
            let points = svg[Range(m.range(at: 2), in: svg)!]
            return points.split(separator: " ").map { Double($0.split(separator: ",")[0])! }
        }
    }

    @Test func anAxisCutAtTheOwnRowsShowsTheFarRowInWords() {
        let svg = SVGPlot.intervals(title: "t", xLabel: "NDCG@10", rows: rows, axisHigh: 0.0138)
        #expect(svg.contains("off the axis: 0.079 [0.0733, 0.0848]"))
        // The axis ends at a round value just above 0.0138, so the far row's point is not drawn…
        #expect(svg.components(separatedBy: "<circle").count - 1 == 1)
        // …and nothing is drawn past the arrow's tip at the plot's right edge.
        let right = SVGPlot.width - 30
        #expect(xCoordinates(svg).allSatisfy { $0 <= right + 9 + 1e-9 })
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }

    @Test func withoutACutEveryRowHasItsPoint() {
        let svg = SVGPlot.intervals(title: "t", xLabel: "NDCG@10", rows: rows)
        #expect(!svg.contains("off the axis"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2)
    }

    @Test func aSeriesWidthIsItsStrokeWidth() {
        let svg = SVGPlot.lines(title: "τ", xLabel: "step", yLabel: "τ", series: [
            .init(name: "a", points: [(1, 1.5), (2, 1.5)], color: 0, width: 6.6),
            .init(name: "b", points: [(1, 1.5), (2, 1.5)], color: 1),
        ])
        #expect(svg.contains("stroke-width=\"6.60\""))
        #expect(svg.contains("stroke-width=\"1.80\""))
    }
}
