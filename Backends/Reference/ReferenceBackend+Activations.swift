// Activations for the reference backend: GELU (tanh approximation), ReLU, fused SwiGLU and inverted
// dropout, forward and backward. Elementwise math in Double, rounded once to Float. Every op reads an
// element before writing the same index, which is what makes the documented aliasing safe.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    /// sqrt(2 / pi), the GELU tanh approximation's scale.
    private static let geluScale = (2 / Double.pi).squareRoot()
    private static let geluCubic = 0.044715

    /// gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), evaluated in Double.
    public func uncheckedGeluForward(out: BufferView, input: BufferView) throws {
        let x = input.hostFloats, y = out.hostFloats
        parallelFor(input.count, grain: elementGrain) { range in
            for i in range {
                let v = Double(x[i])
                y[i] = Float(0.5 * v * (1 + tanh(Self.geluScale * (v + Self.geluCubic * v * v * v))))
            }
        }
    }

    /// gelu'(x) = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2),
    /// u = sqrt(2/pi) (x + 0.044715 x^3).
    public func uncheckedGeluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let x = input.hostFloats, dy = dout.hostFloats, dx = dinput.hostFloats
        parallelFor(input.count, grain: elementGrain) { range in
            for i in range {
                let v = Double(x[i])
                let t = tanh(Self.geluScale * (v + Self.geluCubic * v * v * v))
                let slope = 0.5 * (1 + t)
                    + 0.5 * v * (1 - t * t) * Self.geluScale * (1 + 3 * Self.geluCubic * v * v)
                dx[i] = Float(Double(dy[i]) * slope)
            }
        }
    }

    /// max(x, 0), element by element (exact: no arithmetic).
    public func uncheckedReluForward(out: BufferView, input: BufferView) throws {
        let x = input.hostFloats, y = out.hostFloats
        parallelFor(input.count, grain: elementGrain) { range in
            for i in range { y[i] = x[i] > 0 ? x[i] : 0 }
        }
    }

    /// dinput = dout where input > 0, else 0.
    public func uncheckedReluBackward(dinput: BufferView, dout: BufferView, input: BufferView) throws {
        let x = input.hostFloats, dy = dout.hostFloats, dx = dinput.hostFloats
        parallelFor(input.count, grain: elementGrain) { range in
            for i in range { dx[i] = x[i] > 0 ? dy[i] : 0 }
        }
    }

    /// out[r, j] = silu(g) * u with g = input[r, j], u = input[r, F + j], in Double.
    public func uncheckedSwigluForward(out: BufferView, input: BufferView, rows: Int, hidden: Int) throws {
        let x = input.hostFloats, y = out.hostFloats
        parallelFor(rows, grain: rowGrain(hidden)) { range in
            for r in range {
                let gate = x + r * 2 * hidden, up = gate + hidden, outRow = y + r * hidden
                for j in 0..<hidden {
                    let g = Double(gate[j])
                    outRow[j] = Float(g / (1 + exp(-g)) * Double(up[j]))
                }
            }
        }
    }

    /// With s = sigmoid(g): silu'(g) = s (1 + g (1 - s)); dg = dout * u * silu'(g), du = dout * silu(g).
    public func uncheckedSwigluBackward(dinput: BufferView, dout: BufferView, input: BufferView,
                                        rows: Int, hidden: Int) throws {
        let x = input.hostFloats, dy = dout.hostFloats, dx = dinput.hostFloats
        parallelFor(rows, grain: rowGrain(hidden)) { range in
            for r in range {
                let gate = x + r * 2 * hidden, up = gate + hidden, gradient = dy + r * hidden
                let dGate = dx + r * 2 * hidden, dUp = dGate + hidden
                for j in 0..<hidden {
                    let g = Double(gate[j]), u = Double(up[j]), d = Double(gradient[j])
                    let s = 1 / (1 + exp(-g))
                    dGate[j] = Float(d * u * s * (1 + g * (1 - s)))
                    dUp[j] = Float(d * g * s)
                }
            }
        }
    }

    /// keep(j) = uniform(seed, j) >= p at mask index j = firstIndex + i, kept elements scaled by
    /// 1 / (1 - p); p == 0 copies.
    public func uncheckedDropout(out: BufferView, input: BufferView, probability: Float, seed: UInt64,
                                 firstIndex: Int) throws {
        let count = input.count
        let x = input.hostFloats, y = out.hostFloats
        if probability == 0 {
            if x != y { y.update(from: x, count: count) }
            return
        }
        let keepScale = 1 / (1 - probability)
        parallelFor(count, grain: elementGrain) { range in
            for i in range {
                let keep = CounterRNG.uniform(seed: seed, index: UInt32(truncatingIfNeeded: firstIndex &+ i)) >= probability
                y[i] = keep ? x[i] * keepScale : 0
            }
        }
    }
}
