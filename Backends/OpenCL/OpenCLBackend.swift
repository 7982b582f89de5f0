// The OpenCL backend: one device, one context, one in-order command queue with profiling enabled,
// buffers as `cl_mem`, and hand-written kernels from Kernels/*.cl (embedded at build time by the
// EmbedKernels plugin with the common header Kernels/common.clh, or read from $GPT_KERNELS_DIR).
//
// This file holds the buffer type, the backend class with its memory ops, and the plugin value.
// Discovery is in +Device, the launch API in +Launch, kernel sources and the program cache in
// +KernelSource and +ProgramCache, and each op family in its own `OpenCLBackend+Family.swift`
// beside its `Kernels/family.cl`. OpenCLProgramPlan lists the builds those launches make for any
// device description (OpenCLDeviceProfile: named ones such as the H100, and the launch sizes).
//
// Ops are asynchronous: they enqueue and return; `download` and `synchronize` wait. Because the
// queue is in-order, every kernel sees the results of everything enqueued before it.

import COpenCL
import Compute

/// Device memory owned by the OpenCL backend: one `cl_mem` of one context, released on deinit.
public final class OpenCLBuffer: Buffer {
    let memory: cl_mem
    /// The context the memory lives in: a buffer is usable only by the backend that made it.
    let context: cl_context

    init(memory: cl_mem, context: cl_context, count: Int, dtype: DType) {
        self.memory = memory
        self.context = context
        super.init(count: count, dtype: dtype, backendName: "opencl")
    }

    deinit { clReleaseMemObject(memory) }
}

/// One OpenCL device: a context, an in-order profiling command queue, `cl_mem` buffers and the
/// kernels of Kernels/*.cl. Ops enqueue and return; `download` and `synchronize` wait. Not
/// `Sendable`: one thread issues its ops.
public final class OpenCLBackend: Backend {
    /// Its registry name.
    public let name = "opencl"
    /// The device it runs on, as discovered.
    public let deviceInfo: OpenCLDeviceInfo
    /// Attach one to record every checked op, timed by the device's event timestamps (read when
    /// the queue is next waited on).
    public var profiler: Profiler?

    let platform: cl_platform_id
    let device: cl_device_id
    let context: cl_context
    let queue: cl_command_queue

    /// Built programs and kernel objects (see +ProgramCache).
    var programs: [String: cl_program] = [:]
    var kernels: [String: cl_kernel] = [:]
    /// Ops whose command events wait to be read into the profiler (see +Launch).
    var pendingOps: [PendingOp] = []
    /// The commands the op being timed has enqueued so far; nil outside `timeOp`.
    var collectedCommands: [PendingCommand]?
    /// Device-clock seconds minus profiler seconds, fixed at the first profiled event.
    var profileClockOffset: (profiler: ObjectIdentifier, offset: Double)?
    /// Reusable device scratch for multi-pass reductions; grown on demand, never shrunk.
    var scratchBuffer: OpenCLBuffer?
    /// The same for int32 scratch (embedding backward's occurrence chains).
    var intScratchBuffer: OpenCLBuffer?

    /// Where Kernels/<program>.cl and the header are read from instead of the embedded copies
    /// (default: $GPT_KERNELS_DIR). It must hold every file of Kernels/ (checked at start-up, or
    /// when a folder set later is first used). Set it before the first op: built programs are
    /// cached per backend.
    public var kernelDirectory: String? = OpenCLBackend.kernelDirectoryFromEnvironment
    /// The kernel directory last found complete (see +KernelSource).
    var checkedKernelDirectory: String?
    /// The on-disk program cache folder (nil: no disk cache). Default: see `defaultCacheDirectory`.
    public var programCacheDirectory: String? = OpenCLBackend.defaultCacheDirectory()
    /// Forces one matmul tile configuration (default: $GPT_MATMUL_TILES = large|medium|small, else
    /// chosen per device and size).
    var matmulTilesOverride: MatmulTiles? = MatmulTiles.named(OpenCLBackend.environment("GPT_MATMUL_TILES"))
    /// Forces the attention tiles (tests run the H100's on PoCL); nil: chosen per device and head size.
    var attentionTilesOverride: AttentionTiles?

    /// Opens the device `options.device` names (index or name substring; nil: the first GPU, or the
    /// `options.deviceOrdinal`-th, else likewise among all devices).
    public init(options: BackendOptions = BackendOptions()) throws {
        let handle = try OpenCLDiscovery.select(options.device, ordinal: options.deviceOrdinal,
                                                from: try OpenCLDiscovery.devices())
        platform = handle.platform
        var device: cl_device_id? = handle.device
        self.device = handle.device
        deviceInfo = handle.info
        var status: cl_int = CL_SUCCESS
        guard let context = clCreateContext(nil, 1, &device, nil, nil, &status), status == CL_SUCCESS else {
            throw OpenCLStatus.error(status, call: "clCreateContext", context: handle.info.name)
        }
        self.context = context
        let properties = cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE)
        guard let queue = clCreateCommandQueue(context, handle.device, properties, &status), status == CL_SUCCESS else {
            clReleaseContext(context)
            throw OpenCLStatus.error(status, call: "clCreateCommandQueue", context: handle.info.name)
        }
        self.queue = queue
        try checkKernelDirectoryAtStartUp()
    }

    /// A $GPT_KERNELS_DIR that lacks a kernel file makes the backend unavailable, in one line that
    /// names every missing file, before any op runs.
    private func checkKernelDirectoryAtStartUp() throws {
        guard let directory = kernelDirectory, !directory.isEmpty else { return }
        let missing = Self.missingKernelFiles(in: directory)
        guard missing.isEmpty else {
            throw BackendError.unavailable(backend: name, reason: Self.describeMissing(missing, in: directory))
        }
        checkedKernelDirectory = directory
    }

    deinit {
        clFinish(queue)
        for op in pendingOps { for command in op.commands { clReleaseEvent(command.event) } }
        for kernel in kernels.values { clReleaseKernel(kernel) }
        for program in programs.values { clReleaseProgram(program) }
        scratchBuffer = nil
        intScratchBuffer = nil
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    /// `deviceInfo.summary`.
    public var deviceDescription: String { deviceInfo.summary }

    /// CL_DEVICE_GLOBAL_MEM_SIZE of the chosen device.
    public var memoryCapacity: Int? { deviceInfo.globalMemoryBytes }

    // MARK: - Views

    /// The `cl_mem` behind a view (the contract has checked that the buffer is ours).
    func memory(_ view: BufferView) -> cl_mem { unsafeDowncast(view.buffer, to: OpenCLBuffer.self).memory }

    /// `count` elements of device scratch (valid until the next op that asks for scratch; the
    /// in-order queue guarantees an earlier op's kernels are done with it by then).
    func scratch(_ count: Int, _ dtype: DType = .float32) throws -> BufferView {
        let current = dtype == .float32 ? scratchBuffer : intScratchBuffer
        if let buffer = current, buffer.count >= count { return buffer.view(offset: 0, count: count) }
        if dtype == .float32 { scratchBuffer = nil } else { intScratchBuffer = nil }
        let buffer = try uncheckedAllocate(max(count, 1 << 16), dtype) as! OpenCLBuffer
        if dtype == .float32 { scratchBuffer = buffer } else { intScratchBuffer = buffer }
        return buffer.view(offset: 0, count: count)
    }

    /// Work-items per work-group for tree reductions: a power of two the device allows (256 on
    /// GPUs, 64 on CPUs, where PoCL runs a work-group as a loop).
    var reductionThreads: Int { deviceInfo.reductionThreads }

    /// How a column reduction over `rows` splits into row blocks: enough blocks × columns to fill the
    /// device, each block at least 16 rows. Fixed for a given device and shape (deterministic).
    func columnBlocks(rows: Int, cols: Int) -> (blocks: Int, rowsPerBlock: Int) {
        let target = deviceInfo.computeUnits * (deviceInfo.isGPU ? 2048 : 256)
        let wanted = max(1, min((rows + 15) / 16, target / max(cols, 1)))
        let rowsPerBlock = (rows + wanted - 1) / wanted
        return ((rows + rowsPerBlock - 1) / rowsPerBlock, rowsPerBlock)
    }

    // MARK: - Memory

    /// Only `OpenCLBuffer`s of this backend's context.
    public func owns(_ buffer: Buffer) -> Bool { (buffer as? OpenCLBuffer)?.context == context }

    /// A `cl_mem` of `count` elements (uninitialised); throws `.outOfMemory` past the device's
    /// largest buffer or when the driver refuses.
    public func uncheckedAllocate(_ count: Int, _ dtype: DType) throws -> Buffer {
        let bytes = max(count, 1) * dtype.byteSize
        guard bytes <= deviceInfo.maxAllocationBytes else {
            throw BackendError.outOfMemory(
                backend: name, bytes: bytes,
                reason: "larger than the device's largest buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE = "
                    + "\(deviceInfo.maxAllocationBytes) bytes) on \(deviceInfo.name)")
        }
        var status: cl_int = CL_SUCCESS
        let memory = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status)
        guard let memory, status == CL_SUCCESS else {
            throw BackendError.outOfMemory(
                backend: name, bytes: bytes,
                reason: "clCreateBuffer: \(OpenCLStatus.name(status)) on \(deviceInfo.name) "
                    + "(\(OpenCLDeviceInfo.gibibytes(deviceInfo.globalMemoryBytes)) GiB)")
        }
        return OpenCLBuffer(memory: memory, context: context, count: count, dtype: dtype)
    }

    /// A blocking write: `values` may be reused as soon as it returns.
    public func uncheckedUpload(_ values: [Float], to view: BufferView) throws {
        try write(values, memory: memory(view), offset: view.offset)
    }

    /// A blocking write of int32 values.
    public func uncheckedUpload(_ values: [Int32], to view: BufferView) throws {
        try write(values, memory: memory(view), offset: view.offset)
    }

    /// Waits for everything queued before it, then reads the view.
    public func uncheckedDownload(_ view: BufferView) throws -> [Float] {
        try read(memory: memory(view), offset: view.offset, count: view.count, as: Float.self)
    }

    /// Waits for everything queued before it, then reads the int32 view.
    public func uncheckedDownloadInt32(_ view: BufferView) throws -> [Int32] {
        try read(memory: memory(view), offset: view.offset, count: view.count, as: Int32.self)
    }

    /// Enqueues a device-side copy; returns once queued.
    public func uncheckedCopy(from source: BufferView, to destination: BufferView) throws {
        guard source.count > 0 else { return }
        let (from, to) = (memory(source), memory(destination))
        try enqueue("clEnqueueCopyBuffer", command: "copy_buffer") { event in
            clEnqueueCopyBuffer(queue, from, to, source.offset * 4, destination.offset * 4, source.count * 4,
                                0, nil, event)
        }
    }

    /// Enqueues a fill with `value`; returns once queued.
    public func uncheckedFill(_ view: BufferView, with value: Float) throws {
        guard view.count > 0 else { return }
        var pattern = value
        let target = memory(view)
        try enqueue("clEnqueueFillBuffer", command: "fill_buffer") { event in
            clEnqueueFillBuffer(queue, target, &pattern, 4, view.offset * 4, view.count * 4, 0, nil, event)
        }
    }

    /// Waits for every queued command (clFinish), then reads pending profile events.
    public func synchronize() throws {
        try check(clFinish(queue), call: "clFinish")
        try flushProfiles()
    }

    // MARK: - Transfers

    private func write<T>(_ values: [T], memory: cl_mem, offset: Int) throws {
        guard !values.isEmpty else { return }
        try values.withUnsafeBytes { bytes in
            // Blocking: the caller's array may be freed as soon as we return.
            try enqueue("clEnqueueWriteBuffer", command: "write_buffer") { event in
                clEnqueueWriteBuffer(queue, memory, cl_bool(CL_TRUE), offset * 4, bytes.count, bytes.baseAddress,
                                     0, nil, event)
            }
        }
    }

    private func read<T>(memory: cl_mem, offset: Int, count: Int, as: T.Type) throws -> [T] {
        guard count > 0 else {
            try synchronize()
            return []
        }
        var thrown: (any Error)?
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            do {
                // Blocking: returns when every command queued before it has finished too.
                try enqueue("clEnqueueReadBuffer", command: "read_buffer") { event in
                    clEnqueueReadBuffer(queue, memory, cl_bool(CL_TRUE), offset * 4, count * 4, buffer.baseAddress,
                                        0, nil, event)
                }
                initialized = count
            } catch {
                thrown = error
            }
        }
        if let thrown { throw thrown }
        return values
    }
}

// MARK: - Plugin

extension OpenCLBackend {
    /// Registration for `gpt backends` and `--backend opencl`. Priority 20 when a GPU is present (auto
    /// prefers it over blas); 5 when OpenCL only offers CPUs (PoCL), so auto still picks blas there.
    public static let plugin = BackendPlugin(
        name: "opencl",
        summary: "OpenCL 1.2 device (GPU preferred, PoCL on CPU): hand-written kernels, fused attention",
        priority: OpenCLBackend.hasGPU ? 20 : 5,
        probe: {
            do {
                let devices = try OpenCLDiscovery.devices()
                return .available(devices: devices.enumerated().map { "\($0.offset): \($0.element.info.summary)" })
            } catch let error as BackendError {
                if case let .unavailable(_, reason) = error { return .unavailable(reason: reason) }
                return .unavailable(reason: error.description)
            } catch {
                return .unavailable(reason: "\(error)")
            }
        },
        make: { options in try OpenCLBackend(options: options) })

    /// Whether any OpenCL device is a GPU (decides the plugin's priority once, at first use).
    static var hasGPU: Bool {
        (try? OpenCLDiscovery.devices())?.contains(where: { $0.info.isGPU }) ?? false
    }
}
