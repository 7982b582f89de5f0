// A standalone SVG of a training log: train and validation loss against step (left axis) and the
// learning rate on a second axis (right). No dependencies: the SVG is written as text.

/// Training logs drawn as SVG.
public enum LossPlot {
    /// The SVG document for `rows` (at least one).
    public static func svg(_ rows: [TrainingLogRow], title: String = "training loss") -> String {
        let width = 900.0, height = 520.0
        let left = 70.0, right = 80.0, top = 50.0, bottom = 60.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let steps = rows.map { Double($0.step) }
        let losses = rows.map { Double($0.trainLoss) } + rows.compactMap { $0.validationLoss.map(Double.init) }
        let rates = rows.map { Double($0.learningRate) }
        let (xLow, xHigh) = padded(steps.min() ?? 0, steps.max() ?? 1, fraction: 0)
        let (yLow, yHigh) = padded(losses.filter(\.isFinite).min() ?? 0, losses.filter(\.isFinite).max() ?? 1,
                                   fraction: 0.05)
        let (rLow, rHigh) = padded(0, rates.max() ?? 1, fraction: 0.05)
        func x(_ step: Double) -> Double { left + (step - xLow) / (xHigh - xLow) * plotWidth }
        func y(_ loss: Double) -> Double { top + (1 - (loss - yLow) / (yHigh - yLow)) * plotHeight }
        func yRate(_ rate: Double) -> Double { top + (1 - (rate - rLow) / (rHigh - rLow)) * plotHeight }
        func points(_ pairs: [(Double, Double)]) -> String {
            pairs.filter { $0.1.isFinite }.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
        }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(fmt(width / 2))" y="28" text-anchor="middle" font-size="16">\(escape(title))</text>

        """
        // Grid and tick labels: 5 ticks per axis.
        for i in 0...5 {
            let fraction = Double(i) / 5
            let lossValue = yLow + fraction * (yHigh - yLow), py = y(lossValue)
            svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py))\" x2=\"\(fmt(left + plotWidth))\" y2=\"\(fmt(py))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(fmt(left - 8))\" y=\"\(fmt(py + 4))\" text-anchor=\"end\">\(fmt(lossValue, 3))</text>\n"
            let rate = rLow + fraction * (rHigh - rLow)
            svg += "<text x=\"\(fmt(left + plotWidth + 8))\" y=\"\(fmt(yRate(rate) + 4))\" fill=\"#888\">\(scientific(rate))</text>\n"
            let stepValue = xLow + fraction * (xHigh - xLow), px = x(stepValue)
            svg += "<text x=\"\(fmt(px))\" y=\"\(fmt(top + plotHeight + 20))\" text-anchor=\"middle\">\(Int(stepValue.rounded()))</text>\n"
        }
        svg += "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotWidth))\" height=\"\(fmt(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(fmt(left + plotWidth / 2))\" y=\"\(fmt(height - 15))\" text-anchor=\"middle\">step</text>\n"
        svg += "<text transform=\"translate(18,\(fmt(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">loss</text>\n"
        svg += "<text transform=\"translate(\(fmt(width - 12)),\(fmt(top + plotHeight / 2))) rotate(90)\" text-anchor=\"middle\" fill=\"#888\">learning rate</text>\n"

        let lrPoints = points(rows.map { (x(Double($0.step)), yRate(Double($0.learningRate))) })
        svg += "<polyline id=\"lr\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"5,4\" points=\"\(lrPoints)\"/>\n"
        let trainPoints = points(rows.map { (x(Double($0.step)), y(Double($0.trainLoss))) })
        svg += "<polyline id=\"train\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(trainPoints)\"/>\n"
        let validation = rows.compactMap { row in row.validationLoss.map { (x(Double(row.step)), y(Double($0))) } }
        svg += "<polyline id=\"val\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" points=\"\(points(validation))\"/>\n"
        for point in validation where point.1.isFinite {
            svg += "<circle cx=\"\(fmt(point.0))\" cy=\"\(fmt(point.1))\" r=\"3\" fill=\"#ff7f0e\"/>\n"
        }
        // Legend.
        let legend = [("train loss", "#1f77b4", ""), ("val loss", "#ff7f0e", ""), ("learning rate", "#999", "5,4")]
        for (index, entry) in legend.enumerated() {
            let ly = top + 16 + Double(index) * 18, lx = left + plotWidth - 150
            svg += "<line x1=\"\(fmt(lx))\" y1=\"\(fmt(ly))\" x2=\"\(fmt(lx + 24))\" y2=\"\(fmt(ly))\" stroke=\"\(entry.1)\" stroke-width=\"2\""
                + (entry.2.isEmpty ? "" : " stroke-dasharray=\"\(entry.2)\"") + "/>\n"
            svg += "<text x=\"\(fmt(lx + 30))\" y=\"\(fmt(ly + 4))\">\(entry.0)</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private static func padded(_ low: Double, _ high: Double, fraction: Double) -> (Double, Double) {
        if !(high > low) { return (low - 0.5, low + 0.5) }
        let pad = (high - low) * fraction
        return (low - pad, high + pad)
    }

    private static func fmt(_ value: Double, _ decimals: Int = 1) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return "\(rounded)"
    }

    private static func scientific(_ value: Double) -> String {
        guard value > 0 else { return "0" }
        var exponent = 0, mantissa = value
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        return "\(fmt(mantissa, 1))e\(exponent)"
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }
}
