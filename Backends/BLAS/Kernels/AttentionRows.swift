// Row helpers of the attention kernels: masked maxima and exponentials over score rows, the
// padding and packing of their operands. Rows end anywhere under the causal mask, so every
// helper reads whole vectors and masks the lanes past the row's end instead of a scalar tail.

/// Helpers of the attention kernels over score rows and operand copies.
public enum AttentionRows {
    /// Score rows are processed this many queries at a time.
    public static let blockRows = 16

    /// `count` rounded up to whole vectors.
    @inlinable @inline(__always)
    public static func padded(_ count: Int) -> Int { (count + 7) / 8 * 8 }

    /// Lanes at or past `live` (compared as Floats: one vector compare, where Int32 mask
    /// arithmetic becomes per-lane code).
    @inlinable @inline(__always)
    public static func deadLanes(from live: Int) -> SIMDMask<SIMD8<Int32>> {
        Float8(0, 1, 2, 3, 4, 5, 6, 7) .>= Float8(repeating: Float(live))
    }

    /// The largest of row[0..<count]; reads count rounded up to 8 (the rest ignored).
    @inlinable @inline(__always)
    static func maximum<A: VectorArithmetic>(_ arithmetic: A.Type, _ row: UnsafePointer<Float>, _ count: Int) -> Float {
        var best = Float8(repeating: -.infinity)
        var j = 0
        while j + 8 <= count {
            best = pointwiseMax(best, Vector.load(row + j))
            j += 8
        }
        if j < count {
            let tail = Vector.load(row + j).replacing(with: -.infinity, where: deadLanes(from: count - j))
            best = pointwiseMax(best, tail)
        }
        return Vector.maximum(best)
    }

    @inlinable @inline(__always)
    static func pointwiseMax(_ a: Float8, _ b: Float8) -> Float8 { a.replacing(with: b, where: b .> a) }

    /// row[j] = 2^(row[j] - shift) for j < count and 0 for count <= j < width (a multiple of 8);
    /// returns the sum over j < count.
    @inlinable @inline(__always)
    static func exponentiate<A: VectorArithmetic>(_ arithmetic: A.Type, _ row: UnsafeMutablePointer<Float>,
                                                  count: Int, width: Int, shift: Float) -> Float {
        let shiftVector = Float8(repeating: shift)
        var sum = Float8()
        var j = 0
        while j + 8 <= count {
            let e = Vector.exp2(Vector.load(row + j) - shiftVector, A.self)
            Vector.store(e, row + j)
            sum += e
            j += 8
        }
        if j < count {
            let e = Vector.exp2(Vector.load(row + j) - shiftVector, A.self)
                .replacing(with: 0, where: deadLanes(from: count - j))
            Vector.store(e, row + j)
            sum += e
            j += 8
        }
        while j < width {
            Vector.store(Float8(), row + j)
            j += 8
        }
        return sum.sum()
    }

    /// destination[p * ld + j] = scale * source[j * stride + p] for j < rows, p < columns, and 0
    /// for rows <= j < ld (ld a multiple of 8): a transposed, zero-padded copy. Eight source rows
    /// at a time, gathered into one vector per column: every store is a whole vector of one
    /// destination row. (Scattering single floats over ld/8 cache lines took several times as
    /// long, a quarter of a short sequence's forward.)
    @inlinable @inline(__always)
    static func packTransposed(_ source: UnsafePointer<Float>, stride: Int, rows: Int, columns: Int, scale: Float,
                               into destination: UnsafeMutablePointer<Float>, ld: Int) {
        let scaleVector = Float8(repeating: scale)
        var j = 0
        while j + 8 <= rows {
            let lines = source + j * stride
            for p in 0..<columns {
                var gathered = Float8()
                for lane in 0..<8 { gathered[lane] = lines[lane * stride + p] }
                Vector.store(gathered * scaleVector, destination + p * ld + j)
            }
            j += 8
        }
        while j < ld {
            let lines = source + j * stride, live = max(0, min(8, rows - j))
            for p in 0..<columns {
                var gathered = Float8()
                for lane in 0..<live { gathered[lane] = lines[lane * stride + p] }
                Vector.store(gathered * scaleVector, destination + p * ld + j)
            }
            j += 8
        }
    }

    /// destination[j * ld + p] = source[j * stride + p] for j < rows, p < columns, and 0 for
    /// columns <= p < ld: a copy with rows padded to whole vectors.
    @inlinable @inline(__always)
    static func packRows(_ source: UnsafePointer<Float>, stride: Int, rows: Int, columns: Int,
                         into destination: UnsafeMutablePointer<Float>, ld: Int) {
        for j in 0..<rows {
            (destination + j * ld).update(from: source + j * stride, count: columns)
            if columns < ld { (destination + j * ld + columns).update(repeating: 0, count: ld - columns) }
        }
    }
}
