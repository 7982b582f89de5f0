// Fused SwiGLU forward and backward over one row, for any instruction set (VectorArithmetic.swift):
// silu(g) u with silu(g) = g sigmoid(g), sigmoid(g) = 1 / (1 + 2^(-g log2 e)), the exp as in GELU
// one 2^t per lane.

/// SwiGLU over contiguous rows of gate and up halves, in any arithmetic.
public enum SwiGLUKernel {
    /// sigmoid per lane: g = -inf gives 0 and +inf 1, so silu(-inf) = -inf * 0 = NaN as in the
    /// reference's g / (1 + e^-g).
    @inlinable @inline(__always)
    static func sigmoid<A: VectorArithmetic>(_ g: Float8, _ arithmetic: A.Type) -> Float8 {
        1 / Vector.onePlusExp2(g * Float8(repeating: -1.4426950408889634), A.self)
    }

    /// out[j] = silu(gate[j]) up[j] for j < count.
    @inlinable @inline(__always)
    public static func forward<A: VectorArithmetic>(_ arithmetic: A.Type, gate: UnsafePointer<Float>,
                                                    up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                                    count: Int) {
        @inline(__always) func swiglu(_ g: Float8, _ u: Float8) -> Float8 { g * sigmoid(g, A.self) * u }
        var j = 0
        while j + 8 <= count {
            Vector.store(swiglu(Vector.load(gate + j), Vector.load(up + j)), out + j)
            j += 8
        }
        if j < count {
            let n = count - j
            Vector.store(swiglu(Vector.load(gate + j, count: n), Vector.load(up + j, count: n)), out + j, count: n)
        }
    }

    /// With s = sigmoid(g): dgate = dout u s (1 + g (1 - s)), dup = dout g s, for j < count.
    @inlinable @inline(__always)
    public static func backward<A: VectorArithmetic>(_ arithmetic: A.Type, gate: UnsafePointer<Float>,
                                                     up: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                                                     dgate: UnsafeMutablePointer<Float>,
                                                     dup: UnsafeMutablePointer<Float>, count: Int) {
        @inline(__always) func gradients(_ g: Float8, _ u: Float8, _ d: Float8) -> (gate: Float8, up: Float8) {
            let s = sigmoid(g, A.self)
            let siluSlope = s * A.multiplyAdd(g, 1 - s, Float8(repeating: 1))
            return (d * u * siluSlope, d * g * s)
        }
        var j = 0
        while j + 8 <= count {
            let r = gradients(Vector.load(gate + j), Vector.load(up + j), Vector.load(dout + j))
            Vector.store(r.gate, dgate + j)
            Vector.store(r.up, dup + j)
            j += 8
        }
        if j < count {
            let n = count - j
            let r = gradients(Vector.load(gate + j, count: n), Vector.load(up + j, count: n),
                              Vector.load(dout + j, count: n))
            Vector.store(r.gate, dgate + j, count: n)
            Vector.store(r.up, dup + j, count: n)
        }
    }
}
