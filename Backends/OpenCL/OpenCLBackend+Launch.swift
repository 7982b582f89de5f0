// The one way host code runs a kernel: `launch(kernel, program:, defines:, global:, local:, args,
// profile:)`, plus event-based profiling (CL_QUEUE_PROFILING_ENABLE) shared with the memory ops.
//
// Kernel argument convention (every Kernels/*.cl follows it): each buffer is TWO arguments, the
// pointer and an int element offset (`__global float* out, const int out_off`), because views into
// the one flat parameter buffer start at arbitrary elements and sub-buffers would need
// CL_DEVICE_MEM_BASE_ADDR_ALIGN alignment. Sizes are `int`. Global sizes are rounded up to a multiple
// of `local` by the caller (`roundUp`); kernels bounds-check.

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
struct PendingProfile {
    let event: cl_event
    let name: String
    let shape: String
    let flops: Double
    let bytes: Double
    /// Profiler time when it was enqueued (anchors device time to profiler time).
    let enqueued: Double
}

extension OpenCLBackend {
    /// Enqueues `kernel` from Kernels/`program`.cl built with `defines` (`-D KEY=VALUE`).
    /// `global` and `local` have 1 to 3 dimensions; a zero-sized global range launches nothing.
    /// `profile` (shape, flops, bytes) is evaluated only when a profiler is attached.
    func launch(_ kernel: String, program: String, defines: [String: String] = [:],
                global: [Int], local: [Int]?, _ arguments: [KernelArgument],
                profile: @autoclosure () -> (shape: String, flops: Double, bytes: Double)) throws {
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
        var shape = ""
        var flops = 0.0
        var bytes = 0.0
        if profiler != nil { (shape, flops, bytes) = profile() }
        try enqueue("clEnqueueNDRangeKernel", context: kernel, profile: (kernel, shape, flops, bytes)) { event in
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
        let (memory, offset) = try self.memory("launch", "argument", view, view.dtype)
        return (memory, try int32(offset, "offset"))
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
    /// and queues the event for the profiler under `profile.name`.
    func enqueue(_ call: String, context: String = "",
                 profile: (name: String, shape: String, flops: Double, bytes: Double),
                 _ body: (UnsafeMutablePointer<cl_event?>?) -> cl_int) throws {
        guard let profiler else {
            try check(body(nil), call: call, context: context)
            return
        }
        var event: cl_event?
        let enqueued = profiler.now()
        try check(body(&event), call: call, context: context)
        guard let event else { return }
        pendingProfiles.append(PendingProfile(event: event, name: profile.name, shape: profile.shape,
                                              flops: profile.flops, bytes: profile.bytes, enqueued: enqueued))
        // Bound the number of live events; reading them waits for the queue.
        if pendingProfiles.count >= 4096 { try flushProfiles() }
    }

    /// Waits for the pending profiled commands and records each one's device-side duration. Device
    /// timestamps are mapped onto the profiler's clock by anchoring the first event ever seen by this
    /// profiler at its enqueue time, so the trace keeps the device's real gaps between kernels.
    func flushProfiles() throws {
        guard !pendingProfiles.isEmpty else { return }
        let pending = pendingProfiles
        pendingProfiles.removeAll(keepingCapacity: true)
        defer { for item in pending { clReleaseEvent(item.event) } }
        guard let profiler else { return }
        var events: [cl_event?] = pending.map { $0.event }
        try check(clWaitForEvents(cl_uint(events.count), &events), call: "clWaitForEvents")
        let identity = ObjectIdentifier(profiler)
        for item in pending {
            let start = try timestamp(item.event, CL_PROFILING_COMMAND_START)
            let end = try timestamp(item.event, CL_PROFILING_COMMAND_END)
            if profileClockOffset?.profiler != identity {
                profileClockOffset = (identity, start - item.enqueued)
            }
            let offset = profileClockOffset!.offset
            profiler.record(ProfileEvent(name: item.name, shape: item.shape, flops: item.flops, bytes: item.bytes,
                                         start: start - offset, seconds: max(0, end - start)))
        }
    }

    private func timestamp(_ event: cl_event, _ parameter: Int32) throws -> Double {
        var nanoseconds: cl_ulong = 0
        try check(clGetEventProfilingInfo(event, cl_profiling_info(parameter), MemoryLayout<cl_ulong>.size,
                                          &nanoseconds, nil), call: "clGetEventProfilingInfo")
        return Double(nanoseconds) * 1e-9
    }
}
