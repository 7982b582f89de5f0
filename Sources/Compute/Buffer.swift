// Buffers: opaque, backend-owned storage, and contiguous views into them.
//
// A `Buffer` is allocated by one backend and only that backend reads or writes it; the model never
// touches its memory directly (it uploads and downloads). Each backend subclasses `Buffer` with its
// own storage (a host pointer, a `cl_mem`, ...). Ops take `BufferView`s: a contiguous element range
// of a buffer, so one flat parameter allocation can be handed out as named slices (llm.c style).

/// Element type of a buffer. Float32 everywhere; Int32 for token ids and targets.
public enum DType: String, Sendable, Codable {
    /// 32-bit IEEE floats: every parameter, activation, gradient and optimizer moment.
    case float32
    /// 32-bit signed integers: token ids and targets (and nothing an op computes).
    case int32

    /// Size of one element in bytes.
    public var byteSize: Int { 4 }
}

/// Storage owned by one backend. Subclassed by each backend; never created by model code.
open class Buffer {
    /// Number of elements.
    public let count: Int
    /// Element type, fixed at allocation; the checked entry points reject a view of the wrong one.
    public let dtype: DType
    /// `name` of the backend that allocated it, for error messages.
    public let backendName: String

    /// Called by a backend's subclass once it holds `count` elements of `dtype` storage; model code
    /// gets buffers from `allocate` instead.
    public init(count: Int, dtype: DType, backendName: String) {
        self.count = count
        self.dtype = dtype
        self.backendName = backendName
    }

    /// The whole buffer as a view.
    public var all: BufferView { BufferView(buffer: self, offset: 0, count: count) }

    /// Elements `offset ..< offset + count`.
    public func view(offset: Int, count: Int) -> BufferView {
        BufferView(buffer: self, offset: 0, count: self.count).view(offset: offset, count: count)
    }
}

/// A contiguous range of a buffer, in elements. Cheap to create; holds the buffer alive.
public struct BufferView {
    /// The storage this range lies in (kept alive by the view).
    public let buffer: Buffer
    /// First element, counted from the start of `buffer`.
    public let offset: Int
    /// Number of elements.
    public let count: Int

    /// Elements `offset ..< offset + count` of `buffer`; traps when the range leaves the buffer, a
    /// programming error rather than bad input (the checked entry points check sizes before this).
    public init(buffer: Buffer, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= buffer.count,
                     "view \(offset)..<\(offset + count) is outside a buffer of \(buffer.count) elements")
        self.buffer = buffer
        self.offset = offset
        self.count = count
    }

    /// The buffer's element type.
    public var dtype: DType { buffer.dtype }

    /// A sub-range, relative to this view's start.
    public func view(offset: Int, count: Int) -> BufferView {
        precondition(offset >= 0 && count >= 0 && offset + count <= self.count,
                     "sub-view \(offset)..<\(offset + count) is outside a view of \(self.count) elements")
        return BufferView(buffer: buffer, offset: self.offset + offset, count: count)
    }

    /// The `index`-th of consecutive chunks of `count` elements (e.g. layer `l` of a per-layer tensor).
    public func chunk(_ index: Int, of count: Int) -> BufferView {
        view(offset: index * count, count: count)
    }

    /// Whether two views share any element of the same buffer.
    public func overlaps(_ other: BufferView) -> Bool {
        buffer === other.buffer && offset < other.offset + other.count && other.offset < offset + count
    }
}
