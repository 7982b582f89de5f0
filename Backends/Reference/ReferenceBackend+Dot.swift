// The Double dot product of two Float arrays, shared by ops whose inner loop is a short reduction
// (attention scores, dP, D_t). Four independent partial sums let the CPU overlap the additions
// instead of waiting on one accumulator; every product is exact in Double, so only the (Double)
// summation order differs from a plain loop.

extension ReferenceBackend {
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= count {
            s0 += Double(x[i]) * Double(y[i])
            s1 += Double(x[i + 1]) * Double(y[i + 1])
            s2 += Double(x[i + 2]) * Double(y[i + 2])
            s3 += Double(x[i + 3]) * Double(y[i + 3])
            i += 4
        }
        while i < count {
            s0 += Double(x[i]) * Double(y[i])
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}
