// Host memory for the CPU backends: one 64-byte-aligned allocation per buffer (a cache line, and the
// alignment AVX-512 loads like), zeroed, freed on deinit. The buffer records which backend made it,
// so a CPU backend refuses another CPU backend's buffers as the contract says (`Backend.owns`).

import Compute

/// Storage owned by one CPU backend (`backendName`).
public final class HostBuffer: Buffer {
    /// Start of the allocation (at least 4 bytes, so a 0-element buffer still has a valid pointer).
    package let storage: UnsafeMutableRawPointer

    package init(count: Int, dtype: DType, owner backendName: String) {
        let bytes = max(count, 1) * dtype.byteSize
        storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        // Zeroed, although the contract says "undefined": runs are reproducible even when a caller
        // forgets to initialise something.
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        super.init(count: count, dtype: dtype, backendName: backendName)
    }

    deinit { storage.deallocate() }
}

extension BufferView {
    /// The first float32 element of a view of a `HostBuffer`. Only for views the contract has
    /// checked (owner and dtype), which is every view an unchecked requirement receives.
    package var hostFloats: UnsafeMutablePointer<Float> {
        unsafeDowncast(buffer, to: HostBuffer.self).storage.assumingMemoryBound(to: Float.self) + offset
    }

    /// The first int32 element of a checked view of a `HostBuffer`.
    package var hostInt32s: UnsafeMutablePointer<Int32> {
        unsafeDowncast(buffer, to: HostBuffer.self).storage.assumingMemoryBound(to: Int32.self) + offset
    }

    /// The first byte of a checked view of a `HostBuffer`.
    package var hostBytes: UnsafeMutableRawPointer {
        unsafeDowncast(buffer, to: HostBuffer.self).storage + offset * dtype.byteSize
    }
}
