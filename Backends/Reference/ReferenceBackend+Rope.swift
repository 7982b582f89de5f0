// Rotary position embedding for the reference backend, in the Hugging Face Llama layout
// ("rotate_half": element i of a head pairs with element i + hs/2). Angles are computed in Double.
// Forward rotates each pair by +angle; backward applies the transpose rotation (by -angle), which
// is both the gradient and the inverse.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    /// For row r, pos = r % sequenceLength + positionOffset; pair i (of hs/2) of every head turns by
    /// direction * pos * theta^(-2i/hs), direction -1 when `inverse`:
    ///   (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin).
    public func uncheckedRope(_ view: BufferView, rows: Int, sequenceLength: Int, rowStride: Int,
                              heads: Int, headDim: Int, theta: Float, positionOffset: Int, inverse: Bool) throws {
        let direction: Double = inverse ? -1 : 1
        let x = view.hostFloats
        let half = headDim / 2
        // inverseFrequency[i] = theta^(-2i/hs), shared by every row and head.
        let inverseFrequency = (0..<half).map { pow(Double(theta), -2 * Double($0) / Double(headDim)) }
        parallelFor(rows, grain: rowGrain(heads * headDim)) { range in
            var cosines = [Double](repeating: 0, count: half), sines = cosines
            for r in range {
                let position = Double(r % sequenceLength + positionOffset)
                for i in 0..<half {
                    let angle = direction * position * inverseFrequency[i]
                    cosines[i] = cos(angle)
                    sines[i] = sin(angle)
                }
                for h in 0..<heads {
                    let head = x + r * rowStride + h * headDim
                    for i in 0..<half {
                        let x1 = Double(head[i]), x2 = Double(head[i + half])
                        head[i] = Float(x1 * cosines[i] - x2 * sines[i])
                        head[i + half] = Float(x2 * cosines[i] + x1 * sines[i])
                    }
                }
            }
        }
    }
}
