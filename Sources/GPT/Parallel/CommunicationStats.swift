// Where a data-parallel rank's communication time went: how long collectives were in flight, how
// much of that the training thread spent waiting for them (exposed), and so how much ran while it
// computed (hidden). `gpt profile` prints it under MPI.

/// One rank's collectives over the training steps measured.
public struct CommunicationStats: Sendable, Equatable {
    /// Optimizer steps counted.
    public var steps = 0
    /// Collectives started.
    public var collectives = 0
    /// Bytes this rank handed to them.
    public var bytes = 0.0
    /// Seconds during which at least one collective was in flight (from its start to its completion).
    public var inFlightSeconds = 0.0
    /// Seconds the training thread spent waiting for collectives to complete.
    public var waitedSeconds = 0.0

    /// Nothing counted yet.
    public init() {}

    /// In-flight time that overlapped computation.
    public var hiddenSeconds: Double { max(0, inFlightSeconds - waitedSeconds) }

    /// The hidden share of the in-flight time (0 when nothing was in flight).
    public var hiddenFraction: Double { inFlightSeconds > 0 ? hiddenSeconds / inFlightSeconds : 0 }

    /// Seconds covered by the union of `intervals`.
    static func covered(_ intervals: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant)]) -> Double {
        var total = Duration.zero
        var current: (start: ContinuousClock.Instant, end: ContinuousClock.Instant)?
        for interval in intervals.sorted(by: { $0.start < $1.start }) {
            if let open = current, interval.start <= open.end {
                current = (open.start, max(open.end, interval.end))
            } else {
                if let open = current { total += open.end - open.start }
                current = interval
            }
        }
        if let open = current { total += open.end - open.start }
        return Double(total.components.seconds) + Double(total.components.attoseconds) * 1e-18
    }
}
