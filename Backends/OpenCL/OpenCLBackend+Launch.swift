// The one way host code runs a kernel: `launch(kernel, program:, defines:, global:, local:, args)`,
// plus event-based profiling (CL_QUEUE_PROFILING_ENABLE) shared with the memory ops.
//
// Kernel argument convention (every Kernels/*.cl follows it): each buffer is TWO arguments, the
// pointer and an int element offset (`__global float* out, const int out_off`), because views into
// the one flat parameter buffer start at arbitrary elements and sub-buffers would need
// CL_DEVICE_MEM_BASE_ADDR_ALIGN alignment. Sizes are `int`. Global sizes are rounded up to a multiple
// of `local` by the caller (`roundUp`); kernels bounds-check.
//
// Profiling: ops are asynchronous, so a wall clock around one would time only the enqueue. The
// backend takes over `timeOp` instead: while an op runs, every command it enqueues (kernels and
// transfers) is collected with its event; when the events are read (at `synchronize`, after a
// download, or when many are pending) the op is recorded with its contract's record, the device
// time from its first command's start to its last command's end, and each command as a
// `KernelSpan`, so `gpt profile` shows both the op and the kernels it launched.

import COpenCL
import Compute

/// One kernel argument as host code writes it.
enum KernelArgument {
    /// A buffer view: expands to (cl_mem, int element offset).
    case view(BufferView)
    case int(Int)
    case float(Float)
    case uint(UInt32)
    /// `__local` scratch of this many bytes.
    case local(bytes: Int)
}

/// A profiled command whose event has not been read yet.
struct PendingCommand {
    let event: cl_event
    /// Kernel name, or the transfer ("write_buffer", "read_buffer", "copy_buffer", "fill_buffer").
    let name: String
}

/// The commands one op enqueued, waiting for their events to be read.
struct PendingOp {
    /// The op's contract record; nil for a command enqueued outside any op (recorded on its own).
    let record: OpRecord?
    let commands: [PendingCommand]
    /// Profiler time when the op started (anchors device time to profiler time).
    let enqueued: Double
}

extension OpenCLBackend {
    /// Enqueues `kernel` from `program` (Kernels/<program>.cl) built with `defines` (`-D KEY=VALUE`).
    /// `global` and `local` have 1 to 3 dimensions; a zero-sized global range launches nothing.
    func launch(_ kernel: String, program: KernelProgram, defines: [String: String] = [:],
                global: [Int], local: [Int]?, _ arguments: [KernelArgument]) throws {
        guard !global.contains(0) else { return }
        if let local {
            for (g, l) in zip(global, local) where l <= 0 || g % l != 0 {
                throw BackendError.invalidArgument(
                    op: kernel, reason: "global size \(global) is not a multiple of local size \(local)")
            }
        }
        let handle = try self.kernel(kernel, program: program, defines: defines)
        var index = 0
        for argument in arguments {
            try setArgument(handle, index, argument, kernel: kernel)
            if case .view = argument { index += 2 } else { index += 1 }
        }
        let globalSizes = global
        let localSizes = local
        try enqueue("clEnqueueNDRangeKernel", command: kernel, context: kernel) { event in
            globalSizes.withUnsafeBufferPointer { globalPointer in
                if let localSizes {
                    return localSizes.withUnsafeBufferPointer { localPointer in
                        clEnqueueNDRangeKernel(queue, handle, cl_uint(globalSizes.count), nil, globalPointer.baseAddress,
                                               localPointer.baseAddress, 0, nil, event)
                    }
                }
                return clEnqueueNDRangeKernel(queue, handle, cl_uint(globalSizes.count), nil, globalPointer.baseAddress,
                                              nil, 0, nil, event)
            }
        }
    }

    /// `(cl_mem, element offset)` for a view of this backend (any dtype), for hand-set arguments.
    func view(_ view: BufferView) throws -> (cl_mem, Int32) {
        (memory(view), try int32(view.offset, "offset"))
    }

    private func setArgument(_ kernel: cl_kernel, _ index: Int, _ argument: KernelArgument, kernel name: String) throws {
        let context = "\(name) argument \(index)"
        switch argument {
        case let .view(bufferView):
            var (memory, offset) = try view(bufferView)
            try check(clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem>.size, &memory),
                      call: "clSetKernelArg", context: context)
            try check(clSetKernelArg(kernel, cl_uint(index + 1), 4, &offset),
                      call: "clSetKernelArg", context: "\(name) argument \(index + 1)")
        case let .int(value):
            var value32 = try int32(value, context)
            try check(clSetKernelArg(kernel, cl_uint(index), 4, &value32), call: "clSetKernelArg", context: context)
        case var .float(value):
            try check(clSetKernelArg(kernel, cl_uint(index), 4, &value), call: "clSetKernelArg", context: context)
        case var .uint(value):
            try check(clSetKernelArg(kernel, cl_uint(index), 4, &value), call: "clSetKernelArg", context: context)
        case let .local(bytes):
            try check(clSetKernelArg(kernel, cl_uint(index), bytes, nil), call: "clSetKernelArg", context: context)
        }
    }

    private func int32(_ value: Int, _ what: String) throws -> Int32 {
        guard let narrow = Int32(exactly: value) else {
            throw BackendError.invalidArgument(op: "opencl", reason: "\(what) = \(value) does not fit in a kernel int")
        }
        return narrow
    }

    /// The smallest multiple of `multiple` that is >= `value`.
    func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

    // MARK: - Enqueue and profiling

    /// Runs `body` (an enqueue call) with an event pointer when profiling, else nil; checks its status
    /// and, when profiling, keeps the event for the op being timed under the command's name.
    func enqueue(_ call: String, command: String, context: String = "",
                 _ body: (UnsafeMutablePointer<cl_event?>?) -> cl_int) throws {
        guard let profiler else {
            try check(body(nil), call: call, context: context)
            return
        }
        var event: cl_event?
        let enqueued = profiler.now()
        try check(body(&event), call: call, context: context)
        guard let event else { return }
        let pending = PendingCommand(event: event, name: command)
        if collectedCommands != nil {
            collectedCommands?.append(pending)
        } else {
            pendingOps.append(PendingOp(record: nil, commands: [pending], enqueued: enqueued))
        }
    }

    /// Collects the commands `body` enqueues under `record` (an op nested in another op's call
    /// belongs to the outer one). After a download every queued command has finished, so the
    /// events are read right away; otherwise when many are pending or at `synchronize`.
    public func timeOp<Result>(_ record: OpRecord, profiler: Profiler,
                               _ body: () throws -> Result) throws -> Result {
        guard collectedCommands == nil else { return try body() }
        collectedCommands = []
        let enqueued = profiler.now()
        let result: Result
        do {
            result = try body()
        } catch {
            pendingOps.append(PendingOp(record: record, commands: collectedCommands ?? [], enqueued: enqueued))
            collectedCommands = nil
            throw error
        }
        pendingOps.append(PendingOp(record: record, commands: collectedCommands ?? [], enqueued: enqueued))
        collectedCommands = nil
        // Bound the number of live events; reading them waits for the queue.
        if record.op == .download || pendingOps.count >= 1024 { try flushProfiles() }
        return result
    }

    /// Waits for the pending ops' commands and records each op with its device-side time. Device
    /// timestamps are mapped onto the profiler's clock by anchoring the first event ever seen by this
    /// profiler at its enqueue time, so the trace keeps the device's real gaps between kernels.
    func flushProfiles() throws {
        guard !pendingOps.isEmpty else { return }
        let pending = pendingOps
        pendingOps.removeAll(keepingCapacity: true)
        defer { for op in pending { for command in op.commands { clReleaseEvent(command.event) } } }
        guard let profiler else { return }
        var events: [cl_event?] = pending.flatMap { $0.commands.map(\.event) }
        if !events.isEmpty {
            try check(clWaitForEvents(cl_uint(events.count), &events), call: "clWaitForEvents")
        }
        for op in pending {
            var spans: [KernelSpan] = []
            for command in op.commands {
                let start = try timestamp(command.event, CL_PROFILING_COMMAND_START)
                let end = try timestamp(command.event, CL_PROFILING_COMMAND_END)
                let offset = clockOffset(profiler, deviceStart: start, enqueued: op.enqueued)
                spans.append(KernelSpan(name: command.name, start: start - offset, seconds: max(0, end - start)))
            }
            profiler.record(Self.event(op, spans))
        }
    }

    /// The op's event: from its first command's start to its last command's end (an op that
    /// enqueued nothing, e.g. an empty copy, takes no time at its enqueue time).
    private static func event(_ op: PendingOp, _ spans: [KernelSpan]) -> ProfileEvent {
        let start = spans.first?.start ?? op.enqueued
        let end = spans.map { $0.start + $0.seconds }.max() ?? start
        guard let record = op.record else {
            // A command enqueued outside any op is recorded under its own name.
            return ProfileEvent(name: spans.first?.name ?? "", shape: "", flops: 0, bytes: 0, start: start,
                                seconds: end - start, kernels: spans)
        }
        return ProfileEvent(record, start: start, seconds: end - start, kernels: spans)
    }

    /// Device-clock seconds minus profiler seconds, fixed at the first event this profiler sees.
    private func clockOffset(_ profiler: Profiler, deviceStart: Double, enqueued: Double) -> Double {
        let identity = ObjectIdentifier(profiler)
        if profileClockOffset?.profiler != identity { profileClockOffset = (identity, deviceStart - enqueued) }
        return profileClockOffset!.offset
    }

    private func timestamp(_ event: cl_event, _ parameter: Int32) throws -> Double {
        var nanoseconds: cl_ulong = 0
        try check(clGetEventProfilingInfo(event, cl_profiling_info(parameter), MemoryLayout<cl_ulong>.size,
                                          &nanoseconds, nil), call: "clGetEventProfilingInfo")
        return Double(nanoseconds) * 1e-9
    }
}
