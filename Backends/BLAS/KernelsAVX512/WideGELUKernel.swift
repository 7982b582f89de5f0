// GELU forward and backward on 16 lanes (one zmm register), for CPUs with AVX-512: the arithmetic
// of BLASKernels' GELUKernel and Vector.onePlusExp2 instruction for instruction, with the same
// constants, so every lane rounds exactly as the 8-lane AVX2 build does (a test compares them bit
// for bit). Why a second copy at all: the loop's long dependency chain (polynomial, 2^t, division)
// leaves it bound by how many iterations the core can keep in flight, and a zmm instruction
// carries twice the lanes through the same scheduler entries. One thread, 32K-196K elements in
// cache (EPYC Zen 4, whose FMA units are 256 bits wide): 3.2 G elements/s on 8 lanes, 4.3 on 16.
// It is written on the concrete SIMD16<Float>: code generic over the vector width compiles to
// per-lane loops.

#if arch(x86_64)
import BLASKernels

/// GELU (tanh approximation) over contiguous ranges, 16 lanes at a time.
enum WideGELUKernel {
    /// 1 + 2^t per lane: Vector.onePlusExp2 on 16 lanes.
    @inline(__always)
    static func onePlusExp2(_ t: Lanes16) -> Lanes16 {
        let (mantissa, scale) = Wide.exp2Factors(t)
        return Wide.multiplyAdd(mantissa, scale, Lanes16(repeating: 1))
    }

    /// out[i] = gelu(input[i]) for i < count; `out` may be `input`.
    @inline(__always)
    static func forward(input: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
        let k1 = Lanes16(repeating: GELUKernel.k1), k3 = Lanes16(repeating: GELUKernel.k3)
        @inline(__always) func gelu(_ x: Lanes16) -> Lanes16 {
            x / onePlusExp2(x * Wide.multiplyAdd(x * x, k3, k1))
        }
        var i = 0
        while i + 16 <= count {
            Wide.store(gelu(Wide.load(input + i)), out + i)
            i += 16
        }
        if i < count { Wide.store(gelu(Wide.load(input + i, count: count - i)), out + i, count: count - i) }
    }

    /// dinput[i] = dout[i] gelu'(input[i]) for i < count; `dinput` may be `dout` (GELUKernel.backward's formula).
    @inline(__always)
    static func backward(input: UnsafePointer<Float>, dout: UnsafePointer<Float>, dinput: UnsafeMutablePointer<Float>,
                         count: Int) {
        let k1 = Lanes16(repeating: GELUKernel.k1), k3 = Lanes16(repeating: GELUKernel.k3)
        let d1 = Lanes16(repeating: GELUKernel.d1), d3 = Lanes16(repeating: GELUKernel.d3)
        @inline(__always) func slope(_ x: Lanes16) -> Lanes16 {
            let x2 = x * x
            let s = 1 / onePlusExp2(x * Wide.multiplyAdd(x2, k3, k1))
            return Wide.multiplyAdd(x * Wide.multiplyAdd(x2, d3, d1), Wide.multiplyAdd(-s, s, s), s)
        }
        var i = 0
        while i + 16 <= count {
            Wide.store(Wide.load(dout + i) * slope(Wide.load(input + i)), dinput + i)
            i += 16
        }
        if i < count {
            let n = count - i
            Wide.store(Wide.load(dout + i, count: n) * slope(Wide.load(input + i, count: n)), dinput + i, count: n)
        }
    }
}
#endif
