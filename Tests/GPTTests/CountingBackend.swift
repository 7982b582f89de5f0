// A backend that forwards everything to the reference backend and counts the bytes it allocates,
// so a test can prove a refusal came before any allocation, and hold a size formula to the
// buffers a model really makes.

import Compute
import ReferenceBackend

final class CountingBackend: ForwardingBackend {
    let forwardee: any Backend = ReferenceBackend()
    var profiler: Profiler?
    /// Bytes of every buffer allocated so far.
    private(set) var allocatedBytes = 0
    /// A device memory to report (nil: none, so budgets fall back to the host's).
    let memoryCapacity: Int?

    init(memoryCapacity: Int? = nil) { self.memoryCapacity = memoryCapacity }

    var name: String { "counting" }

    func uncheckedAllocate(_ count: Int, _ dtype: DType) throws -> Buffer {
        allocatedBytes += count * dtype.byteSize
        return try forwardee.uncheckedAllocate(count, dtype)
    }
}
