// The attention kernels' per-row exponentials on 16 lanes, for CPUs with AVX-512: the forward's
// P = 2^(S - max) with its row sum (AttentionRows.exponentiate) and the backward's P and
// dS = P (dP - D) (AttentionBackwardKernel.softmaxGradientRow). Like GELU, each element is a long
// dependency chain (the 2^x polynomial), so the loop is bound by how many chains the core keeps in
// flight, and a zmm instruction carries twice the lanes through the same scheduler entries. Every
// lane is computed as the 8-lane code computes it, and the row sum is still accumulated 8 lanes at
// a time in the same order, so the results are the AVX2 build's bit for bit (a test compares them).

#if arch(x86_64)
import BLASKernels

/// The attention's row loops, 16 lanes wide (see the file comment).
enum WideAttentionRows {
    /// row[j] = 2^(row[j] - shift) for j < count and 0 for count <= j < width (a multiple of 8);
    /// returns the sum over j < count, AttentionRows.exponentiate's contract and rounding.
    @inline(__always)
    static func exponentiate(_ row: UnsafeMutablePointer<Float>, count: Int, width: Int, shift: Float) -> Float {
        let shiftVector = Lanes16(repeating: shift)
        // The 8-lane code's accumulator: each 16-lane result is added as its two halves, in order.
        var sum = Float8()
        var j = 0
        while j < count {
            let live = count - j
            if live > 8 {  // padded(count) >= j + 16, so the row holds all 16 lanes
                var e = exp2(Wide.load(row + j) - shiftVector)
                if live < 16 { e = e.replacing(with: 0, where: Wide.deadLanes(from: live)) }
                Wide.store(e, row + j)
                sum += e.lowHalf
                sum += e.highHalf
                j += 16
            } else {  // the row's last vector, on 8 lanes: 16 would read past its width
                var e = Vector.exp2(Vector.load(row + j) - shiftVector.lowHalf, AVX512Arithmetic.self)
                if live < 8 { e = e.replacing(with: 0, where: AttentionRows.deadLanes(from: live)) }
                Vector.store(e, row + j)
                sum += e
                j += 8
            }
        }
        while j < width {
            Vector.store(Float8(), row + j)
            j += 8
        }
        return sum.sum()
    }

    /// P = 2^(S - shift) for the visible keys and 0 to `width`, in `probabilities`; dS = P (dP -
    /// rowDot) in `gradients` (which holds dP): AttentionBackwardKernel.softmaxGradientRow's contract.
    /// Each lane stands alone (no sum), so the row's last 8 lanes and its zero padding are that
    /// 8-lane loop's, called on the rest of the row.
    @inline(__always)
    static func softmaxGradientRow(probabilities: UnsafeMutablePointer<Float>,
                                   gradients: UnsafeMutablePointer<Float>,
                                   visible: Int, width: Int, shift: Float, rowDot: Float) {
        let shiftVector = Lanes16(repeating: shift), dot = Lanes16(repeating: rowDot)
        var j = 0
        while visible - j > 8 {  // padded(visible) >= j + 16, so the row holds all 16 lanes
            let live = visible - j
            var p = exp2(Wide.load(probabilities + j) - shiftVector)
            var g = p * (Wide.load(gradients + j) - dot)
            if live < 16 {
                let dead = Wide.deadLanes(from: live)
                p = p.replacing(with: 0, where: dead)
                g = g.replacing(with: 0, where: dead)
            }
            Wide.store(p, probabilities + j)
            Wide.store(g, gradients + j)
            j += 16
        }
        AttentionBackwardKernel.softmaxGradientRow(AVX512Arithmetic.self, probabilities: probabilities + j,
                                                   gradients: gradients + j, visible: visible - j,
                                                   width: width - j, shift: shift, rowDot: rowDot)
    }

    /// 2^t per lane: Vector.exp2 on 16 lanes.
    @inline(__always)
    static func exp2(_ t: Lanes16) -> Lanes16 {
        let (mantissa, scale) = Wide.exp2Factors(t)
        return mantissa * scale
    }
}
#endif
