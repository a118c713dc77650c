import Foundation

/// The plot area and margins every chart shares.
public struct ChartFrame: Sendable, Equatable {
    public var width = 640.0
    public var height = 320.0
    public var left = 64.0
    public var right = 16.0
    public var top = 16.0
    public var bottom = 44.0
    /// The legend in the plot's top right corner instead of its top left (where a scatter's points crowd).
    public var legendOnRight = false

    public init() {}

    public var plotX: ClosedRange<Double> { left...(width - right) }
    public var plotY: ClosedRange<Double> { top...(height - bottom) }
}

/// One named line of a chart.
public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// Drawn dashed (an overlay, such as 429s over requests).
    public var dashed: Bool
    /// Drawn as separate dots, not joined (a scatter of measured points).
    public var scatter: Bool
    /// A tooltip per point (a scatter's points name what they measured); empty for none.
    public var labels: [String]

    public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, scatter: Bool = false, labels: [String] = []) {
        self.name = name
        self.points = points
        self.dashed = dashed
        self.scatter = scatter
        self.labels = labels
    }
}

/// Colours for series, chosen to read in light and dark mode alike.
public enum Palette {
    public static let colors = ["#2f7ed8", "#e4572e", "#17a673", "#9c5de0", "#d9a400", "#00a6b4", "#c2185b", "#6d8299"]

    public static func color(_ index: Int) -> String { colors[index % colors.count] }
}

/// A line chart: SVG with axes, ticks, a legend and one path per series.
public enum LineChart {
    /// - Parameters:
    ///   - xKind: `.log10` for HdrHistogram's percentile axis (x = 1/(1−p)).
    ///   - xTicks: custom labelled ticks; nil for round linear ticks.
    public static func render(
        _ series: [Series], title: String, xLabel: String, yLabel: String, xKind: Scale.Kind = .linear,
        xTicks: [(x: Double, label: String)]? = nil, frame: ChartFrame = ChartFrame(), colors: [String]? = nil
    ) -> String {
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xLow = xKind == .log10 ? max(1, xs.min() ?? 1) : min(0, xs.min() ?? 0)
        var xHigh = max(xs.max() ?? 1, xTicks?.map(\.x).filter { $0 <= (xs.max() ?? 1) }.max() ?? 0, xLow + 1)
        if !series.isEmpty, series.allSatisfy(\.scatter), xKind == .linear { xHigh = Ticks.niceCeiling(xHigh * 1.1) }  // no point on the edge
        let yHigh = Ticks.niceCeiling(ys.max() ?? 1)
        let x = Scale(xKind, domain: xLow...xHigh, range: frame.plotX)
        let y = Scale(.linear, domain: 0...yHigh, range: frame.plotY, inverted: true)
        var parts: [String] = []
        // Axes and grid.
        let ticks = xTicks?.filter { $0.x >= xLow && $0.x <= xHigh } ?? Ticks.linear(xLow...xHigh).map { ($0, SVG.number($0)) }
        for tick in ticks {
            parts.append(SVG.element("line", [("x1", SVG.number(x(tick.x))), ("x2", SVG.number(x(tick.x))), ("y1", SVG.number(frame.plotY.lowerBound)), ("y2", SVG.number(frame.plotY.upperBound)), ("class", "grid")]))
            parts.append(SVG.text(tick.label, x: x(tick.x), y: frame.plotY.upperBound + 16))
        }
        for tick in Ticks.linear(0...yHigh) {
            parts.append(SVG.element("line", [("x1", SVG.number(frame.plotX.lowerBound)), ("x2", SVG.number(frame.plotX.upperBound)), ("y1", SVG.number(y(tick))), ("y2", SVG.number(y(tick))), ("class", "grid")]))
            parts.append(SVG.text(SVG.number(tick), x: frame.plotX.lowerBound - 6, y: y(tick) + 4, anchor: "end"))
        }
        parts.append(SVG.element("path", [("d", SVG.path([(frame.plotX.lowerBound, frame.plotY.lowerBound), (frame.plotX.lowerBound, frame.plotY.upperBound), (frame.plotX.upperBound, frame.plotY.upperBound)])), ("class", "axis")]))
        parts.append(SVG.text(xLabel, x: (frame.plotX.lowerBound + frame.plotX.upperBound) / 2, y: frame.height - 6))
        parts.append(SVG.element("text", [("transform", "translate(14,\(SVG.number((frame.plotY.lowerBound + frame.plotY.upperBound) / 2))) rotate(-90)"), ("text-anchor", "middle"), ("class", "label")], SVG.escape(yLabel)))
        // Series and legend.
        for (index, line) in series.enumerated() where !line.points.isEmpty {
            let color = colors?[index % (colors?.count ?? 1)] ?? Palette.color(index)
            if !line.scatter {
                var attributes = [("d", SVG.path(line.points.map { (x($0.x), y($0.y)) })), ("class", "series"), ("stroke", color)]
                if line.dashed { attributes.append(("stroke-dasharray", "5 4")) }
                parts.append(SVG.element("path", attributes, SVG.element("title", [], SVG.escape(line.name))))
            }
            if line.scatter || line.points.count <= 2 {  // a scatter, or too short to see as a line: mark the points
                for (position, point) in line.points.enumerated() {
                    let label = position < line.labels.count ? SVG.element("title", [], SVG.escape(line.labels[position])) : nil
                    parts.append(SVG.element("circle", [("cx", SVG.number(x(point.x))), ("cy", SVG.number(y(point.y))), ("r", "3"), ("fill", color)], label))
                }
            }
            let legendY = frame.plotY.lowerBound + 14 * Double(index) + 4
            let keyX = frame.legendOnRight ? frame.plotX.upperBound - 20 : frame.plotX.lowerBound + 10
            parts.append(SVG.element("rect", [("x", SVG.number(keyX)), ("y", SVG.number(legendY)), ("width", "10"), ("height", "3"), ("fill", color)]))
            parts.append(SVG.text(line.name, x: frame.legendOnRight ? keyX - 6 : keyX + 16, y: legendY + 5, anchor: frame.legendOnRight ? "end" : "start", className: "legend"))
        }
        return svg(title: title, frame: frame, parts.joined())
    }

    static func svg(title: String, frame: ChartFrame, _ content: String) -> String {
        SVG.element(
            "svg",
            [("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 \(SVG.number(frame.width)) \(SVG.number(frame.height))"), ("role", "img"), ("aria-label", title)],
            SVG.element("title", [], SVG.escape(title)) + content
        )
    }
}

/// Horizontal stacked bars: one bar per category, one segment per part.
public enum StackedBarChart {
    public static func render(_ bars: [(label: String, parts: [(name: String, value: Double)])], title: String, frame: ChartFrame = ChartFrame()) -> String {
        var layout = frame
        layout.left = 170
        layout.height = max(120, 48 + 34 * Double(bars.count) + 46)
        let total = max(1, bars.map { $0.parts.reduce(0) { $0 + $1.value } }.max() ?? 1)
        let x = Scale(.linear, domain: 0...total, range: layout.plotX)
        var names: [String] = []
        for bar in bars { for part in bar.parts where !names.contains(part.name) { names.append(part.name) } }
        var parts: [String] = []
        for (row, bar) in bars.enumerated() {
            let y = layout.plotY.lowerBound + 34 * Double(row)
            parts.append(SVG.text(bar.label, x: layout.plotX.lowerBound - 8, y: y + 16, anchor: "end"))
            var start = 0.0
            for segment in bar.parts where segment.value > 0 {
                let color = Palette.color(names.firstIndex(of: segment.name) ?? 0)
                let width = x(start + segment.value) - x(start)
                parts.append(SVG.element(
                    "rect", [("x", SVG.number(x(start))), ("y", SVG.number(y)), ("width", SVG.number(width)), ("height", "22"), ("fill", color)],
                    SVG.element("title", [], SVG.escape("\(segment.name): \(SVG.number(segment.value))"))
                ))
                start += segment.value
            }
        }
        let legendY = layout.plotY.lowerBound + 34 * Double(bars.count) + 12
        var legendX = layout.plotX.lowerBound
        var row = 0.0
        for (index, name) in names.enumerated() {
            let width = 24 + 7 * Double(name.count)
            if legendX + width > layout.plotX.upperBound, legendX > layout.plotX.lowerBound {  // wrap
                legendX = layout.plotX.lowerBound
                row += 1
            }
            parts.append(SVG.element("rect", [("x", SVG.number(legendX)), ("y", SVG.number(legendY + 16 * row)), ("width", "10"), ("height", "10"), ("fill", Palette.color(index))]))
            parts.append(SVG.text(name, x: legendX + 14, y: legendY + 16 * row + 9, anchor: "start", className: "legend"))
            legendX += width
        }
        return LineChart.svg(title: title, frame: layout, parts.joined())
    }
}
