// Rotary position embedding on OpenCL, in place, through Kernels/rope.cl (one work-item per rotated
// pair). Forward turns by +angle, backward by -angle (the transpose rotation).

import Compute

extension OpenCLBackend {
    /// A typical hs/2 = 32..64 pairs per head: two warps cover a head or two.
    static let ropeLocalSize = 64

    public func ropeForward(_ x: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                            heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws {
        try rope("ropeForward", x, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride,
                 heads: heads, headDim: headDim, theta: theta, positionOffset: positionOffset, direction: 1)
    }

    public func ropeBackward(_ dx: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                             heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws {
        try rope("ropeBackward", dx, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride,
                 heads: heads, headDim: headDim, theta: theta, positionOffset: positionOffset, direction: -1)
    }

    private func rope(_ op: String, _ view: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                      heads: Int, headDim: Int, theta: Float, positionOffset: Int, direction: Float) throws {
        try Check.rope(op, view, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride,
                       heads: heads, headDim: headDim, theta: theta, positionOffset: positionOffset)
        _ = try memory(op, "x", view)
        let pairs = heads * headDim / 2
        let local = Self.ropeLocalSize
        try launch("rope_rotate", program: "rope", global: [roundUp(pairs, local), rows], local: [local, 1], [
            .view(view), .int(rows), .int(sequenceLength), .int(rowStride), .int(heads), .int(headDim),
            .float(theta), .int(positionOffset), .float(direction),
        ], profile: ("rows=\(rows) T=\(sequenceLength) heads=\(heads) hs=\(headDim)",
                     6 * Double(rows * heads * headDim), 8 * Double(rows * heads * headDim)))
    }
}
