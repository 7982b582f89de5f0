// The profiler hook. With a Profiler attached to a backend, every checked op records one event: the
// record its contract builds (op name, shape, FLOPs, bytes: the same on every backend) and the time
// the backend measured. CPU backends run ops synchronously, so the default timing (the monotonic
// clock around the call, `Backend.timeOp`) is exact; the OpenCL backend reads event timestamps
// instead and lists the kernels the op launched.

/// What the contract knows about one call of an op before it runs (only the contract makes them).
public struct OpRecord: Sendable, Equatable {
    /// The op called.
    public let op: Op
    /// Shape summary in the op's one format, e.g. "m=768 n=512 k=128 batch=1 tB".
    public let shape: String
    /// Floating-point operations of the op's math (its contract's formula; 0 when not meaningful).
    public let flops: Double
    /// Bytes the op's math reads plus writes, each element counted once (an estimate, for GB/s).
    public let bytes: Double
}

/// One device command an op ran (an OpenCL kernel or transfer), with device times.
public struct KernelSpan: Sendable, Equatable {
    /// Kernel name, `<family>_<variant>` (e.g. "matmul_rows"), or the transfer ("write_buffer").
    public var name: String
    /// Start, in seconds since the profiler was created.
    public var start: Double
    /// Device duration in seconds (from the command's own start and end timestamps).
    public var seconds: Double

    /// A span named `name` that ran `seconds` from `start` (both on the profiler's clock).
    public init(name: String, start: Double, seconds: Double) {
        self.name = name
        self.start = start
        self.seconds = seconds
    }
}

/// One entry of a profile: an op call (from its `OpRecord`) or a caller's own marker, with its time.
/// `gpt profile` sums these per op and writes them as a Chrome trace.
public struct ProfileEvent: Sendable {
    /// Op name (an `Op` raw value), or for events a caller adds itself (step markers) any label.
    public var name: String
    /// Shape summary, e.g. "m=768 n=512 k=128 batch=1".
    public var shape: String
    /// Floating-point operations performed (0 when not meaningful).
    public var flops: Double
    /// Bytes read plus written (an estimate, for GB/s).
    public var bytes: Double
    /// Start, in seconds since the profiler was created.
    public var start: Double
    /// Duration in seconds.
    public var seconds: Double
    /// The device commands the op ran, in order (empty on CPU backends).
    public var kernels: [KernelSpan]

    /// An event with every field given; callers adding their own markers use this one.
    public init(name: String, shape: String, flops: Double, bytes: Double, start: Double, seconds: Double,
                kernels: [KernelSpan] = []) {
        self.name = name
        self.shape = shape
        self.flops = flops
        self.bytes = bytes
        self.start = start
        self.seconds = seconds
        self.kernels = kernels
    }

    /// The event of one op call: `record` timed from `start` for `seconds`.
    public init(_ record: OpRecord, start: Double, seconds: Double, kernels: [KernelSpan] = []) {
        self.init(name: record.op.rawValue, shape: record.shape, flops: record.flops, bytes: record.bytes,
                  start: start, seconds: seconds, kernels: kernels)
    }
}

/// Collects events. Not thread-safe by design: ops are issued from one thread.
public final class Profiler {
    /// Every event recorded since creation or the last `reset()`, in the order recorded.
    public private(set) var events: [ProfileEvent] = []
    private let origin = ContinuousClock.now

    /// An empty profiler whose clock starts now.
    public init() {}

    /// Seconds since this profiler was created.
    public func now() -> Double { Self.seconds(ContinuousClock.now - origin) }

    /// Appends `event`; the checked entry points call it once per op.
    public func record(_ event: ProfileEvent) { events.append(event) }

    /// Forgets every event (keeping their storage, so a warm-up can be dropped cheaply); the clock
    /// keeps its origin.
    public func reset() { events.removeAll(keepingCapacity: true) }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
