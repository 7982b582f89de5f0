// Linear warmup, then cosine decay to a floor (nanoGPT / llm.c schedule).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The learning rate of every optimizer step.
public struct LearningRateSchedule: Equatable, Sendable {
    /// The rate at the end of warmup.
    public var peak: Float
    /// The floor the cosine decays to.
    public var minimum: Float
    /// Steps of linear warmup.
    public var warmupSteps: Int
    /// The step the decay reaches `minimum` at.
    public var totalSteps: Int

    /// A schedule (`TrainingSettings.schedule` makes the run's).
    public init(peak: Float, minimum: Float, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.minimum = minimum
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The rate for 0-based `step`: peak * (step+1)/warmup during warmup, then
    /// minimum + (peak - minimum) * (1 + cos(pi * progress)) / 2 with progress going 0 → 1 from the
    /// end of warmup to `totalSteps`; `minimum` after that.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        if step >= totalSteps { return minimum }
        let decaySteps = max(1, totalSteps - warmupSteps)
        let progress = Double(step - warmupSteps) / Double(decaySteps)
        let cosine = 0.5 * (1 + cos(Double.pi * progress))
        return minimum + Float(cosine) * (peak - minimum)
    }
}
