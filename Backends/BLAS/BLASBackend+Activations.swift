// GELU (tanh approximation), ReLU, fused SwiGLU and counter-RNG dropout on the BLAS backend:
// elementwise SIMD8 loops, one contiguous chunk per thread.
//
// GELU uses the identity 0.5 (1 + tanh(u)) = sigmoid(2u), so gelu(x) = x / (1 + e^(-2u)) with
// u = sqrt(2/pi) (x + 0.044715 x^3): one vector exp, and full relative accuracy for large negative
// x where 1 + tanh(u) would cancel.

import Compute

extension BLASBackend {
    private static let geluScale: Float = 0.7978845608028654  // sqrt(2 / pi)
    private static let geluCubic: Float = 0.044715

    public func geluForward(out: BufferView, input: BufferView) throws {
        let op = "geluForward"
        let po = try floats(op, "out", out), px = try floats(op, "input", input)
        try Check.count(op, "out", out, input.count)
        try elementwise(op, count: input.count, flops: 12) { i in
            let x = VectorMath.load(px + i)
            let u = BLASBackend.geluScale * (x + BLASBackend.geluCubic * x * x * x)
            VectorMath.store(x * VectorMath.sigmoid(2 * u), po + i)
        } tail: { i, n in
            let x = VectorMath.load(px + i, count: n)
            let u = BLASBackend.geluScale * (x + BLASBackend.geluCubic * x * x * x)
            VectorMath.store(x * VectorMath.sigmoid(2 * u), po + i, count: n)
        }
    }

    /// gelu'(x) = s + 2 x s (1 - s) u', s = sigmoid(2u), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    public func geluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let op = "geluBackward"
        let pdx = try floats(op, "dinput", dinput), pdy = try floats(op, "dout", dout)
        let px = try floats(op, "input", input)
        try Check.count(op, "dout", dout, input.count)
        try Check.count(op, "dinput", dinput, input.count)
        @inline(__always) func gradient(_ x: Float8) -> Float8 {
            let x2 = x * x
            let u = BLASBackend.geluScale * (x + BLASBackend.geluCubic * x2 * x)
            let du = BLASBackend.geluScale * (1 + 3 * BLASBackend.geluCubic * x2)
            let s = VectorMath.sigmoid(2 * u)
            return s + 2 * x * s * (1 - s) * du
        }
        try elementwise(op, count: input.count, flops: 20) { i in
            VectorMath.store(VectorMath.load(pdy + i) * gradient(VectorMath.load(px + i)), pdx + i)
        } tail: { i, n in
            let value = VectorMath.load(pdy + i, count: n) * gradient(VectorMath.load(px + i, count: n))
            VectorMath.store(value, pdx + i, count: n)
        }
    }

    /// Written as `x > 0 ? x : 0`, like the reference: NaN maps to 0.
    public func reluForward(out: BufferView, input: BufferView) throws {
        let op = "reluForward"
        let po = try floats(op, "out", out), px = try floats(op, "input", input)
        try Check.count(op, "out", out, input.count)
        try elementwise(op, count: input.count, flops: 1) { i in
            let x = VectorMath.load(px + i)
            VectorMath.store(x.replacing(with: 0, where: .!(x .> 0)), po + i)
        } tail: { i, n in
            let x = VectorMath.load(px + i, count: n)
            VectorMath.store(x.replacing(with: 0, where: .!(x .> 0)), po + i, count: n)
        }
    }

    public func reluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let op = "reluBackward"
        let pdx = try floats(op, "dinput", dinput), pdy = try floats(op, "dout", dout)
        let px = try floats(op, "input", input)
        try Check.count(op, "dout", dout, input.count)
        try Check.count(op, "dinput", dinput, input.count)
        try elementwise(op, count: input.count, flops: 1) { i in
            let d = VectorMath.load(pdy + i)
            VectorMath.store(d.replacing(with: 0, where: .!(VectorMath.load(px + i) .> 0)), pdx + i)
        } tail: { i, n in
            let d = VectorMath.load(pdy + i, count: n)
            VectorMath.store(d.replacing(with: 0, where: .!(VectorMath.load(px + i, count: n) .> 0)), pdx + i, count: n)
        }
    }

    public func swigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        let op = "swigluForward"
        try Check.positive(op, ["rows": rows, "hidden": hidden])
        let po = try floats(op, "out", out), px = try floats(op, "input", input)
        try Check.count(op, "input", input, rows * 2 * hidden)
        try Check.count(op, "out", out, rows * hidden)
        Profiler.measure(profiler, op, shape: "N=\(rows) F=\(hidden)", flops: 8.0 * Double(rows * hidden),
                         bytes: 12.0 * Double(rows * hidden)) {
            parallelFor(rows, grain: rowGrain(2 * hidden)) { range in
                for row in range {
                    let gate = px + row * 2 * hidden, up = gate + hidden, y = po + row * hidden
                    var j = 0
                    while j + 8 <= hidden {
                        let g = VectorMath.load(gate + j)
                        VectorMath.store(g * VectorMath.sigmoid(g) * VectorMath.load(up + j), y + j)
                        j += 8
                    }
                    if j < hidden {
                        let n = hidden - j
                        let g = VectorMath.load(gate + j, count: n)
                        VectorMath.store(g * VectorMath.sigmoid(g) * VectorMath.load(up + j, count: n), y + j, count: n)
                    }
                }
            }
        }
    }

    /// s = sigmoid(g): dg = dout u s (1 + g (1 - s)), du = dout g s.
    public func swigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                               rows: Int, hidden: Int) throws {
        let op = "swigluBackward"
        try Check.positive(op, ["rows": rows, "hidden": hidden])
        let pdx = try floats(op, "dinput", dinput), pdy = try floats(op, "dout", dout)
        let px = try floats(op, "input", input)
        try Check.count(op, "input", input, rows * 2 * hidden)
        try Check.count(op, "dinput", dinput, rows * 2 * hidden)
        try Check.count(op, "dout", dout, rows * hidden)
        Profiler.measure(profiler, op, shape: "N=\(rows) F=\(hidden)", flops: 12.0 * Double(rows * hidden),
                         bytes: 20.0 * Double(rows * hidden)) {
            parallelFor(rows, grain: rowGrain(2 * hidden)) { range in
                for row in range {
                    let gate = px + row * 2 * hidden, up = gate + hidden, dy = pdy + row * hidden
                    let dgate = pdx + row * 2 * hidden, dup = dgate + hidden
                    var j = 0
                    while j < hidden {
                        let n = min(8, hidden - j)
                        let g = n == 8 ? VectorMath.load(gate + j) : VectorMath.load(gate + j, count: n)
                        let u = n == 8 ? VectorMath.load(up + j) : VectorMath.load(up + j, count: n)
                        let d = n == 8 ? VectorMath.load(dy + j) : VectorMath.load(dy + j, count: n)
                        let s = VectorMath.sigmoid(g)
                        let dg = d * u * s * (1 + g * (1 - s))
                        let du = d * g * s
                        if n == 8 {
                            VectorMath.store(dg, dgate + j)
                            VectorMath.store(du, dup + j)
                        } else {
                            VectorMath.store(dg, dgate + j, count: n)
                            VectorMath.store(du, dup + j, count: n)
                        }
                        j += 8
                    }
                }
            }
        }
    }

    public func dropoutForward(out: BufferView, input: BufferView, probability: Float, seed: UInt64) throws {
        try dropout("dropoutForward", out: out, input: input, probability: probability, seed: seed)
    }

    public func dropoutBackward(dinput: BufferView, dout: BufferView, probability: Float, seed: UInt64) throws {
        try dropout("dropoutBackward", out: dinput, input: dout, probability: probability, seed: seed)
    }

    /// out[i] = keep(i) ? input[i] / (1 - p) : 0 with keep(i) = CounterRNG.uniform(seed, i) >= p,
    /// the hash evaluated eight lanes at a time with exactly CounterRNG's 32-bit integer steps.
    private func dropout(_ op: String, out: BufferView, input: BufferView, probability: Float,
                         seed: UInt64) throws {
        let po = try floats(op, "out", out), px = try floats(op, "input", input)
        try Check.count(op, "out", out, input.count)
        guard probability >= 0, probability < 1 else {
            throw BackendError.invalidArgument(op: op, reason: "probability must be in [0, 1), got \(probability)")
        }
        if probability == 0 {
            if po != px {
                Profiler.measure(profiler, op, shape: "n=\(input.count) p=0", bytes: 8.0 * Double(input.count)) {
                    po.update(from: px, count: input.count)
                }
            }
            return
        }
        let keepScale = 1 / (1 - probability)
        let streamLow = CounterRNG.hash32(UInt32(truncatingIfNeeded: seed))
        let streamHigh = CounterRNG.hash32(UInt32(truncatingIfNeeded: seed >> 32) &+ 0x9e37_79b9)
        let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        @inline(__always) func keepMask(_ i: Int) -> SIMDMask<SIMD8<Int32>> {
            let index = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: i)) &+ lanes
            let bits = BLASBackend.hash32(BLASBackend.hash32(index ^ streamLow) ^ streamHigh)
            let uniform = Float8(SIMD8<Int32>(truncatingIfNeeded: bits &>> 8)) * (1.0 / 16_777_216.0)
            return uniform .>= probability
        }
        try elementwise(op, count: input.count, flops: 12) { i in
            let value = VectorMath.load(px + i) * keepScale
            VectorMath.store(Float8(repeating: 0).replacing(with: value, where: keepMask(i)), po + i)
        } tail: { i, n in
            let value = VectorMath.load(px + i, count: n) * keepScale
            VectorMath.store(Float8(repeating: 0).replacing(with: value, where: keepMask(i)), po + i, count: n)
        }
    }

    /// CounterRNG.hash32 on eight lanes.
    @inline(__always)
    static func hash32(_ value: SIMD8<UInt32>) -> SIMD8<UInt32> {
        var x = value
        x ^= x &>> 16
        x &*= 0x7feb_352d
        x ^= x &>> 15
        x &*= 0x846c_a68b
        x ^= x &>> 16
        return x
    }

    /// An elementwise loop over `count` elements: `vector(i)` for each full 8-lane block at i,
    /// `tail(i, n)` for the last n < 8; parallel in big contiguous chunks, profiled as `op`.
    @inline(__always)
    func elementwise(_ op: String, count: Int, flops: Double,
                     vector: (Int) -> Void, tail: (Int, Int) -> Void) throws {
        Profiler.measure(profiler, op, shape: "n=\(count)", flops: flops * Double(count),
                         bytes: 8.0 * Double(count)) {
            // Chunks in whole vectors so the one tail belongs to the last chunk.
            let vectors = count / 8
            parallelFor(vectors, grain: BLASBackend.elementGrain / 8) { range in
                for v in range { vector(v * 8) }
            }
            if count % 8 != 0 { tail(vectors * 8, count % 8) }
        }
    }
}
