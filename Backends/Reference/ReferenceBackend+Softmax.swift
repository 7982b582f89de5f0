// Row softmax (forward, backward) and fused softmax + cross-entropy for the reference backend.
// Max-subtracted, with sums and logsumexp in Double; rows run in parallel.

import Compute

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReferenceBackend {
    public func softmaxForward(out: BufferView, input: BufferView, rows: Int, cols: Int) throws {
        let op = "softmaxForward"
        try Profiler.measure(profiler, op, shape: "N=\(rows) cols=\(cols)", flops: 4 * Double(rows * cols),
                             bytes: 8 * Double(rows * cols)) {
            try Check.positive(op, ["rows": rows, "cols": cols])
            try Check.count(op, "input", input, rows * cols)
            try Check.count(op, "out", out, rows * cols)
            let x = try floats(op, "input", input), y = try floats(op, "out", out)
            parallelFor(rows, grain: rowGrain(cols)) { range in
                for r in range {
                    let lse = Self.logSumExp(x + r * cols, cols)
                    for c in 0..<cols { y[r * cols + c] = Float(exp(Double(x[r * cols + c]) - lse)) }
                }
            }
        }
    }

    public func softmaxBackward(dinput: BufferView, dout: BufferView, out: BufferView,
                                rows: Int, cols: Int) throws {
        let op = "softmaxBackward"
        try Profiler.measure(profiler, op, shape: "N=\(rows) cols=\(cols)", flops: 4 * Double(rows * cols),
                             bytes: 12 * Double(rows * cols)) {
            try Check.positive(op, ["rows": rows, "cols": cols])
            for (what, view) in [("dinput", dinput), ("dout", dout), ("out", out)] {
                try Check.count(op, what, view, rows * cols)
            }
            let dx = try floats(op, "dinput", dinput), dy = try floats(op, "dout", dout)
            let y = try floats(op, "out", out)
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
    }

    public func crossEntropyForward(losses: BufferView, dlogits: BufferView?, logits: BufferView,
                                    targets: BufferView, rows: Int, vocabulary: Int,
                                    gradientScale: Float) throws {
        let op = "crossEntropyForward"
        let V = vocabulary
        try Profiler.measure(profiler, op, shape: "N=\(rows) V=\(V)", flops: 5 * Double(rows * V),
                             bytes: (dlogits == nil ? 4 : 8) * Double(rows * V)) {
            try Check.positive(op, ["rows": rows, "vocabulary": V])
            try Check.count(op, "logits", logits, rows * V)
            try Check.count(op, "losses", losses, rows)
            try Check.count(op, "targets", targets, rows)
            if let dlogits { try Check.count(op, "dlogits", dlogits, rows * V) }
            let x = try floats(op, "logits", logits), loss = try floats(op, "losses", losses)
            let target = try int32s(op, "targets", targets)
            let dx = try dlogits.map { try floats(op, "dlogits", $0) }
            // Validate every target before writing anything.
            for r in 0..<rows where target[r] < -1 || Int(target[r]) >= V {
                throw BackendError.invalidArgument(
                    op: op, reason: "target \(target[r]) at row \(r) is outside 0..<\(V) (or -1 to ignore)")
            }
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
