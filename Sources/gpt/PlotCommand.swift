// `gpt plot LOG.csv`: draws train and validation loss against step, with the learning rate on a
// second axis, as a standalone SVG (open it in any browser).

import FoundationEssentials
import GPT
import Tokenizers

struct PlotOptions: OptionGroup {
    let log = PositionalArgument("LOG.csv", help: "a log written by gpt train --log")
    let out = Option("out", .path("FILE.svg"), documentedDefault: "LOG with .svg", help: "output file")
    let title = Option("title", .text("TEXT"), documentedDefault: "the log's name", help: "plot title")

    var all: [any AnyOption] { [out, title] }
    var positional: PositionalArgument? { log }
}

let plotCommand = Command("plot", summary: "plot a training log (CSV) as an SVG of loss and learning rate",
                          options: PlotOptions.self) { options in
    let path = options.log.value
    let rows = try TrainingLog.parse(try FileIO.readText(path), path: path)
    guard !rows.isEmpty else { throw RuntimeError("\(path): the log has no rows to plot") }
    guard rows.contains(where: { $0.trainLoss.isFinite || $0.validationLoss?.isFinite == true }) else {
        throw RuntimeError("\(path): no loss to plot: every loss in its \(rows.count) rows is NaN or infinite")
    }
    let stem = path.hasSuffix(".csv") ? String(path.dropLast(4)) : path
    let output = options.out.given ?? stem + ".svg"
    try checkOutputPath(output, flag: "--out")
    let title = options.title.given ?? (path.split(separator: "/").last.map(String.init) ?? path)
    try FileIO.writeDurably(Data(LossPlot.svg(rows, title: title).utf8), to: output)
    let evaluations = rows.filter { $0.validationLoss != nil }.count
    print("wrote \(output): \(rows.count) steps, \(evaluations) validation points")
}
