// Rotary position embedding on the BLAS backend (Hugging Face "rotate_half" layout: element i pairs
// with i + hs/2). The cos/sin table for the positions in use is built once, with the angles in
// Double (pos * theta^(-2i/hs) reaches thousands of radians, where Float angles lose ~1e-4), and
// kept until the arguments change; each call is then a row-parallel SIMD8 rotation.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// cos and sin of pos * theta^(-2i/hs) for `sequenceLength` positions starting at `positionOffset`,
/// i in 0..<hs/2: row p of `cosines` and `sines` holds position positionOffset + p.
struct RopeTable {
    let sequenceLength: Int
    let positionOffset: Int
    let headDim: Int
    let theta: Float
    let cosines: [Float]
    let sines: [Float]

    init(sequenceLength: Int, positionOffset: Int, headDim: Int, theta: Float) {
        self.sequenceLength = sequenceLength
        self.positionOffset = positionOffset
        self.headDim = headDim
        self.theta = theta
        let half = headDim / 2
        var cosines = [Float](repeating: 0, count: sequenceLength * half)
        var sines = [Float](repeating: 0, count: sequenceLength * half)
        for p in 0..<sequenceLength {
            let position = Double(p + positionOffset)
            for i in 0..<half {
                let angle = position * pow(Double(theta), -2 * Double(i) / Double(headDim))
                cosines[p * half + i] = Float(cos(angle))
                sines[p * half + i] = Float(sin(angle))
            }
        }
        self.cosines = cosines
        self.sines = sines
    }

    func matches(sequenceLength: Int, positionOffset: Int, headDim: Int, theta: Float) -> Bool {
        self.sequenceLength == sequenceLength && self.positionOffset == positionOffset
            && self.headDim == headDim && self.theta == theta
    }
}

extension BLASBackend {
    /// Rotates pairs (x_i, x_{i+hs/2}) by direction * angle (direction -1 when `inverse`):
    ///   x_i' = x_i cos - direction x_{i+h} sin,  x_{i+h}' = x_{i+h} cos + direction x_i sin.
    public func uncheckedRope(_ view: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                              heads: Int, headDim: Int, theta: Float, positionOffset: Int, inverse: Bool) throws {
        let direction: Float = inverse ? -1 : 1
        let px = view.hostFloats
        if ropeTable?.matches(sequenceLength: sequenceLength, positionOffset: positionOffset,
                              headDim: headDim, theta: theta) != true {
            ropeTable = RopeTable(sequenceLength: sequenceLength, positionOffset: positionOffset,
                                  headDim: headDim, theta: theta)
        }
        let table = ropeTable!
        let half = headDim / 2
        table.cosines.withUnsafeBufferPointer { cosines in
            table.sines.withUnsafeBufferPointer { sines in
                let pcos = cosines.baseAddress!, psin = sines.baseAddress!
                parallelFor(rows, grain: rowGrain(heads * headDim)) { range in
                    for row in range {
                        let position = row % sequenceLength
                        let c = pcos + position * half, s = psin + position * half
                        for head in 0..<heads {
                            let first = px + row * rowStride + head * headDim, second = first + half
                            @inline(__always) func pairs(_ i: Int, _ n: Int) {
                                let cv = VectorMath.load(c + i, upTo: n)
                                let sv = VectorMath.load(s + i, upTo: n) * direction
                                let a = VectorMath.load(first + i, upTo: n)
                                let b = VectorMath.load(second + i, upTo: n)
                                VectorMath.store(a * cv - b * sv, first + i, upTo: n)
                                VectorMath.store(b * cv + a * sv, second + i, upTo: n)
                            }
                            var i = 0
                            while i + 8 <= half {
                                pairs(i, 8)
                                i += 8
                            }
                            if i < half { pairs(i, half - i) }
                        }
                    }
                }
            }
        }
    }
}
