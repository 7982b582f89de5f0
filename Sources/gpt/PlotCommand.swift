// `gpt plot LOG.csv`: draws train and validation loss against step, with the learning rate on a
// second axis, as a standalone SVG (open it in any browser).

import FoundationEssentials
import GPT
import Tokenizers

let plotCommand = Command(
    name: "plot",
    summary: "plot a training log (CSV) as an SVG of loss and learning rate",
    flags: [
        Flag(name: "out", placeholder: "FILE.svg", defaultValue: nil, help: "output file (default: LOG with .svg)"),
        Flag(name: "title", placeholder: "TEXT", defaultValue: nil, help: "plot title (default: the log's name)"),
    ],
    positional: Positional(name: "log", placeholder: "LOG.csv", help: "a log written by gpt train --log")
) { arguments in
    let path = arguments.string("log")!
    let rows = try TrainingLog.parse(try FileIO.readText(path), path: path)
    guard !rows.isEmpty else { throw RuntimeError("\(path): the log has no rows to plot") }
    let stem = path.hasSuffix(".csv") ? String(path.dropLast(4)) : path
    let output = arguments.string("out") ?? stem + ".svg"
    let title = arguments.string("title") ?? (path.split(separator: "/").last.map(String.init) ?? path)
    try FileIO.writeDurably(Data(LossPlot.svg(rows, title: title).utf8), to: output)
    let evaluations = rows.filter { $0.validationLoss != nil }.count
    print("wrote \(output): \(rows.count) steps, \(evaluations) validation points")
}
