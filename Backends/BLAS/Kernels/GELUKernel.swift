// GELU (tanh approximation) forward and backward over a contiguous range, for any instruction set
// (VectorArithmetic.swift). With u = sqrt(2/pi) (x + 0.044715 x^3):
//   gelu(x) = 0.5 x (1 + tanh u) = x sigmoid(2u) = x / (1 + e^(-2u))
// The identity 0.5 (1 + tanh u) = sigmoid(2u) keeps full relative accuracy where 1 + tanh u would
// cancel (large negative x), and e^(-2u) is one 2^t with the log2(e) folded into the polynomial
// in x: t = x (k1 + k3 x^2). Per 8 lanes the forward is 17 vector instructions, the backward 23,
// with 1 + e^(-2u) one multiply-add (Vector.onePlusExp2). BLASKernelsAVX512 runs the same
// arithmetic on 16 lanes (WideGELUKernel), with these constants.

/// GELU (tanh approximation) over contiguous ranges, in any arithmetic.
public enum GELUKernel {
    /// t = -2u log2(e) = x (k1 + k3 x^2): k1 = -2 sqrt(2/pi) log2(e), k3 = 0.044715 k1.
    @inlinable public static var k1: Float { -2.302208198144325 }
    @inlinable public static var k3: Float { -0.1029432395800235 }
    /// 2u' = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2) = d1 + d3 x^2.
    @inlinable public static var d1: Float { 1.5957691216057308 }
    @inlinable public static var d3: Float { 0.21406444881780076 }

    /// out[i] = gelu(input[i]) for i < count; `out` may be `input`.
    @inlinable @inline(__always)
    public static func forward<A: VectorArithmetic>(_ arithmetic: A.Type, input: UnsafePointer<Float>,
                                                    out: UnsafeMutablePointer<Float>, count: Int) {
        let k1 = Float8(repeating: k1), k3 = Float8(repeating: k3)
        @inline(__always) func gelu(_ x: Float8) -> Float8 {
            let t = x * A.multiplyAdd(x * x, k3, k1)
            return x / Vector.onePlusExp2(t, A.self)
        }
        var i = 0
        while i + 8 <= count {
            Vector.store(gelu(Vector.load(input + i)), out + i)
            i += 8
        }
        if i < count { Vector.store(gelu(Vector.load(input + i, count: count - i)), out + i, count: count - i) }
    }

    /// dinput[i] = dout[i] gelu'(input[i]) for i < count; `dinput` may be `dout`. With
    /// s = sigmoid(2u): gelu'(x) = s + x s (1 - s) 2u'. s (1 - s) is s - s^2 in one multiply-add,
    /// which is 0 exactly where s is 0 or 1, so x = -inf and +inf give NaN (inf * 0) as the
    /// reference's formula does, and large finite |x| gives the limits 0 and 1.
    @inlinable @inline(__always)
    public static func backward<A: VectorArithmetic>(_ arithmetic: A.Type, input: UnsafePointer<Float>,
                                                     dout: UnsafePointer<Float>, dinput: UnsafeMutablePointer<Float>,
                                                     count: Int) {
        let k1 = Float8(repeating: k1), k3 = Float8(repeating: k3)
        let d1 = Float8(repeating: d1), d3 = Float8(repeating: d3)
        @inline(__always) func slope(_ x: Float8) -> Float8 {
            let x2 = x * x
            let t = x * A.multiplyAdd(x2, k3, k1)
            let s = 1 / Vector.onePlusExp2(t, A.self)
            let sTimesOneMinusS = A.multiplyAdd(-s, s, s)
            let twoDuDx = A.multiplyAdd(x2, d3, d1)
            return A.multiplyAdd(x * twoDuDx, sTimesOneMinusS, s)
        }
        var i = 0
        while i + 8 <= count {
            Vector.store(Vector.load(dout + i) * slope(Vector.load(input + i)), dinput + i)
            i += 8
        }
        if i < count {
            let n = count - i
            let slopes = slope(Vector.load(input + i, count: n))
            Vector.store(Vector.load(dout + i, count: n) * slopes, dinput + i, count: n)
        }
    }
}
