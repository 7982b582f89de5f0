// The training progress line: step/total, loss, learning rate, tokens per second and ETA. On a
// terminal it is redrawn in place every step; in a log it is printed as a plain line every N steps.

import GPT

final class ProgressLine {
    let totalSteps: Int
    let tokensPerStep: Int
    let redraw: Bool
    let every: Int
    /// Seconds spent in training steps (evaluation excluded), for tok/s and the ETA.
    private(set) var trainingSeconds = 0.0
    /// Recent step times, so the rate follows the current speed rather than the whole run's.
    private var recent: [Double] = []

    init(totalSteps: Int, tokensPerStep: Int, redraw: Bool, every: Int) {
        self.totalSteps = totalSteps
        self.tokensPerStep = tokensPerStep
        self.redraw = redraw
        self.every = every
    }

    func record(step: Int, seconds: Double, stats: StepStats) {
        trainingSeconds += seconds
        recent.append(seconds)
        if recent.count > 20 { recent.removeFirst() }
        guard redraw || step % every == 0 || step == totalSteps else { return }
        let secondsPerStep = recent.reduce(0, +) / Double(recent.count)
        let line = "step \(step)/\(totalSteps) | loss \(Format.fixed(Double(stats.loss), 4)) "
            + "| lr \(Format.scientific(Double(stats.learningRate))) "
            + "| \(Format.rate(Double(tokensPerStep), secondsPerStep)) tok/s "
            + "| ETA \(Format.duration(secondsPerStep * Double(totalSteps - step)))"
        if redraw {
            Console.redraw(line)
            if step == totalSteps { Console.write("\n") }
        } else {
            print(line)
        }
    }
}
