// The profiler hook: backends record one event per op (or kernel) when a Profiler is attached.
// CPU backends time ops with the monotonic clock; the OpenCL backend uses event timestamps.

public struct ProfileEvent: Sendable {
    /// Op or kernel name, `<family>_<variant>` for kernels (e.g. "matmul", "attention_forward").
    public var name: String
    /// Shape summary, e.g. "m=768 n=512 k=128".
    public var shape: String
    /// Floating-point operations performed (0 when not meaningful).
    public var flops: Double
    /// Bytes read plus written (an estimate, for GB/s).
    public var bytes: Double
    /// Start, in seconds since the profiler was created.
    public var start: Double
    /// Duration in seconds.
    public var seconds: Double

    public init(name: String, shape: String, flops: Double, bytes: Double, start: Double, seconds: Double) {
        self.name = name
        self.shape = shape
        self.flops = flops
        self.bytes = bytes
        self.start = start
        self.seconds = seconds
    }
}

/// Collects events. Not thread-safe by design: ops are issued from one thread.
public final class Profiler {
    public private(set) var events: [ProfileEvent] = []
    private let origin = ContinuousClock.now

    public init() {}

    /// Seconds since this profiler was created.
    public func now() -> Double { Self.seconds(ContinuousClock.now - origin) }

    public func record(_ event: ProfileEvent) { events.append(event) }

    public func reset() { events.removeAll(keepingCapacity: true) }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}

extension Profiler {
    /// Runs `body`, recording its wall time under `name` (CPU backends: ops are synchronous).
    /// With a nil profiler this is just a call to `body`. Inlinable so backends' op bodies inline
    /// into their callers instead of running through a closure.
    @inlinable
    public static func measure<T>(_ profiler: Profiler?, _ name: String, shape: @autoclosure () -> String,
                                  flops: Double = 0, bytes: Double = 0,
                                  _ body: () throws -> T) rethrows -> T {
        guard let profiler else { return try body() }
        let start = profiler.now()
        let result = try body()
        let end = profiler.now()
        profiler.record(ProfileEvent(name: name, shape: shape(), flops: flops, bytes: bytes,
                                     start: start, seconds: end - start))
        return result
    }
}
