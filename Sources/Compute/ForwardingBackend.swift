// A backend that hands every requirement to another backend, for wrappers that change only a few
// ops: the conformance harness's fault injection (a backend that breaks one op on purpose, to prove
// the harness catches it), or instrumentation around a real backend.
//
// A conforming type supplies `forwardee`, its own `name` and `profiler`, and implements only the
// requirements it changes; every other one forwards, unchecked, to `forwardee`. The forwarding
// defaults sit in each op family's contract file beside the requirement they forward, so adding an
// op adds its forwarding in the same place and no wrapper needs editing.
//
// Calls still enter through the checked entry points on the wrapper: the wrapper's `supports(_:)`
// and profiler apply, and its views must be ones `forwardee` owns (its buffers are `forwardee`'s).

/// A backend that hands every requirement it does not implement, unchecked, to `forwardee`: for
/// wrappers that change a few ops (fault injection, instrumentation). Its buffers are `forwardee`'s.
public protocol ForwardingBackend: Backend {
    /// The backend every requirement the conforming type does not implement goes to.
    var forwardee: any Backend { get }
}

extension ForwardingBackend {
    /// The forwardee's device.
    public var deviceDescription: String { forwardee.deviceDescription }
    /// The forwardee's capacity: the wrapper allocates nothing of its own.
    public var memoryCapacity: Int? { forwardee.memoryCapacity }
    /// What the forwardee supports; a wrapper that breaks or drops an op overrides this.
    public func supports(_ op: Op) -> Support { forwardee.supports(op) }
}
