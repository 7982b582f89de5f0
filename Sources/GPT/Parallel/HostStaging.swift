// The host memory collectives run on, for one of the model's flat buffers. A CPU backend's buffer
// is host memory already (`hostFloats`), so collectives read and write it in place; a device
// buffer gets a host copy of the same layout, and ranges move between the two by download
// ("pull") and upload ("push"), one bucket at a time.

import Compute

/// Host access to the elements of one buffer, in place or through a staging copy.
final class HostStaging {
    private let buffer: Buffer
    private let backend: any Backend
    /// The buffer's own memory (CPU backends), or the staging copy.
    private let host: UnsafeMutableBufferPointer<Float>
    /// Whether `host` is a copy that pull and push keep in step with the buffer.
    private let isCopy: Bool

    init(_ buffer: Buffer, backend: any Backend) {
        self.buffer = buffer
        self.backend = backend
        if let direct = backend.hostFloats(buffer.all) {
            host = direct
            isCopy = false
        } else {
            host = .allocate(capacity: buffer.count)
            host.initialize(repeating: 0)
            isCopy = true
        }
    }

    deinit {
        if isCopy { host.deallocate() }
    }

    /// Host bytes a device buffer needs for its copy (none for a CPU backend).
    var stagingBytes: Int { isCopy ? host.count * 4 : 0 }

    /// The host elements of `range`, as they are now on the host side.
    func elements(_ range: Range<Int>) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: host[range])
    }

    /// The elements of `range`, brought up to date with the buffer first (a download, which waits
    /// for the ops queued before it).
    func pull(_ range: Range<Int>) throws -> UnsafeMutableBufferPointer<Float> {
        let elements = elements(range)
        if isCopy {
            let values = try backend.download(buffer.view(offset: range.lowerBound, count: range.count))
            _ = elements.update(from: values)
        }
        return elements
    }

    /// Writes the host elements of `range` back into the buffer (an upload).
    func push(_ range: Range<Int>) throws {
        guard isCopy else { return }
        try backend.upload(Array(elements(range)), to: buffer.view(offset: range.lowerBound, count: range.count))
    }
}
