// Row softmax (forward, backward) and fused softmax + cross-entropy for the reference backend.
// Max-subtracted, with sums and logsumexp in Double; rows run in parallel.

import Compute
import HostMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    /// Max-subtracted row softmax, the sum in Double.
    public func uncheckedSoftmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        let x = input.hostFloats, y = out.hostFloats
        parallelFor(rows, grain: rowGrain(cols)) { range in
            for r in range {
                let lse = Self.logSumExp(x + r * cols, cols)
                for c in 0..<cols { y[r * cols + c] = Float(exp(Double(x[r * cols + c]) - lse)) }
            }
        }
    }

    /// dinput = out * (dout - sum(dout * out)) per row, the sum in Double.
    public func uncheckedSoftmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                                         rows: Int, cols: Int) throws {
        let dx = dinput.hostFloats, dy = dout.hostFloats
        let y = out.hostFloats
        parallelFor(rows, grain: rowGrain(cols)) { range in
            for r in range {
                var dot = 0.0
                for c in 0..<cols { dot += Double(dy[r * cols + c]) * Double(y[r * cols + c]) }
                for c in 0..<cols {
                    let i = r * cols + c
                    dx[i] = Float(Double(y[i]) * (Double(dy[i]) - dot))
                }
            }
        }
    }

    /// Per row: logsumexp in Double, loss = logsumexp - logit[target]; with `dlogits`, softmax minus
    /// the one-hot target, times `gradientScale`. Rows with target -1 give 0.
    public func uncheckedCrossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                             targets: BufferView, rows: Int, vocabulary: Int,
                                             gradientScale: Float) throws {
        let V = vocabulary
        let x = logits.hostFloats, loss = losses.hostFloats
        let target = targets.hostInt32s
        let dx = dlogits.map { $0.hostFloats }
        let gradientScale = Double(gradientScale)
        parallelFor(rows, grain: rowGrain(V)) { range in
            for r in range {
                let row = x + r * V, label = Int(target[r])
                guard label >= 0 else {
                    loss[r] = 0
                    if let dx { (dx + r * V).update(repeating: 0, count: V) }
                    continue
                }
                let lse = Self.logSumExp(row, V)
                loss[r] = Float(lse - Double(row[label]))
                if let dx {
                    // Reads logit c before writing dlogit c, so dlogits may alias logits.
                    for c in 0..<V {
                        let probability = exp(Double(row[c]) - lse)
                        dx[r * V + c] = Float((probability - (c == label ? 1 : 0)) * gradientScale)
                    }
                }
            }
        }
    }

    /// log(sum_c exp(x[c])), max-subtracted, in Double.
    static func logSumExp(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
        var maximum = -Double.infinity
        for c in 0..<count { maximum = max(maximum, Double(x[c])) }
        var total = 0.0
        for c in 0..<count { total += exp(Double(x[c]) - maximum) }
        return maximum + log(total)
    }
}
