// The position contract: rotary embedding (RoPE), in place, forward and its transpose.
// Profile record: "rows=ROWS T=T heads=HEADS hs=HS"; FLOPs 3 per rotated element (a pair takes
// four multiplies and two adds); bytes 8 per rotated element (read and written).

/// The position family's requirement: rotary embedding in place, forward or backward. A backend
/// implements it; callers use the checked `ropeForward`/`ropeBackward` below.
public protocol BackendPositions: AnyObject {
    /// The rotation `ropeForward` (inverse false) and `ropeBackward` (inverse true: by -angle) both
    /// are, after their checks; see `ropeForward` for the layout.
    func uncheckedRope(_ x: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                       heads: Int, headDim: Int, theta: Float, positionOffset: Int, inverse: Bool) throws
}

extension Backend {
    /// Rotary embedding, in place, in the Hugging Face Llama layout ("rotate_half": element i pairs
    /// with i + hs/2). x holds `rows` rows of `rowStride` elements; the first heads*hs elements of
    /// each row are `heads` vectors of size hs to rotate (for a (B, T, 3C) qkv buffer: rowStride 3C,
    /// heads 2*NH rotates q and k, leaves v). Row r has position (r % sequenceLength) + positionOffset;
    /// pair i rotates by angle pos * theta^(-2i/hs).
    /// Checks: positive sizes, an even head size, the rotated heads inside a row, positionOffset >= 0,
    /// theta > 0, and a view long enough for the last rotated row (it may stop short of a full row).
    public func ropeForward(_ x: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                            heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws {
        try rope(.ropeForward, x, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride, heads: heads,
                 headDim: headDim, theta: theta, positionOffset: positionOffset)
    }

    /// The transpose rotation (by -angle), in place: turns d(rotated) into d(unrotated).
    public func ropeBackward(_ dx: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                             heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws {
        try rope(.ropeBackward, dx, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride, heads: heads,
                 headDim: headDim, theta: theta, positionOffset: positionOffset)
    }

    private func rope(_ op: Op, _ x: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                      heads: Int, headDim: Int, theta: Float, positionOffset: Int) throws {
        let check = try OpCheck(op, on: self)
        try check.positive(["rows": rows, "sequenceLength": sequenceLength, "rowStride": rowStride,
                            "heads": heads, "headDim": headDim])
        try check.require(headDim % 2 == 0, "headDim must be even, got \(headDim)")
        guard heads * headDim <= rowStride else {
            throw BackendError.shapeMismatch(op: op.rawValue, expected: "heads*headDim <= rowStride \(rowStride)",
                                             got: "\(heads)*\(headDim)")
        }
        try check.require(positionOffset >= 0 && theta > 0,
                          "positionOffset must be >= 0 and theta > 0, got \(positionOffset), \(theta)")
        try check.floats(["x": x])
        try check.atLeast("x", x, (rows - 1) * rowStride + heads * headDim)
        let rotated = Double(rows) * Double(heads * headDim)
        try check.run(check.record("rows=\(rows) T=\(sequenceLength) heads=\(heads) hs=\(headDim)",
                                   flops: 3 * rotated, bytes: 8 * rotated)) {
            try uncheckedRope(x, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride, heads: heads,
                              headDim: headDim, theta: theta, positionOffset: positionOffset,
                              inverse: op == .ropeBackward)
        }
    }
}

extension ForwardingBackend {
    /// Forwards to `forwardee` as is: the wrapper's checked entry point already ran the checks.
    public func uncheckedRope(_ x: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                              heads: Int, headDim: Int, theta: Float, positionOffset: Int, inverse: Bool) throws {
        try forwardee.uncheckedRope(x, rows: rows, sequenceLength: sequenceLength, rowStride: rowStride, heads: heads,
                                    headDim: headDim, theta: theta, positionOffset: positionOffset, inverse: inverse)
    }
}
