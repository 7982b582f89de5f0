// Rotary position embedding on OpenCL, in place, through Kernels/rope.cl (one work-item per rotated
// pair). Forward turns by +angle, backward by -angle (the transpose rotation).

import Compute

extension OpenCLBackend {
    /// A typical hs/2 = 32..64 pairs per head: two warps cover a head or two.
    static let ropeLocalSize = 64

    /// Enqueues `rope_rotate`, one work-item per rotated pair; returns once queued.
    public func uncheckedRope(_ view: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                              heads: Int, headDim: Int, theta: Float, positionOffset: Int, inverse: Bool) throws {
        let pairs = heads * headDim / 2
        let local = Self.ropeLocalSize
        try launch("rope_rotate", program: .rope, global: [roundUp(pairs, local), rows], local: [local, 1], [
            .view(view), .int(rows), .int(sequenceLength), .int(rowStride), .int(heads), .int(headDim),
            .float(theta), .int(positionOffset), .float(inverse ? -1 : 1),
        ])
    }
}
