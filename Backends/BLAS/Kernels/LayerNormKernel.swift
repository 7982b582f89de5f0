// LayerNorm forward and backward over a block of contiguous rows, for any instruction set
// (VectorArithmetic.swift). A row of the models' widths (C = 128…1024) is 16…128 vectors, so each
// of a row's reductions would be one long chain of dependent adds, the row's latency rather than
// its arithmetic setting the pace; four partial sums per reduction break the chain. Lanes past a
// row's end (C not a multiple of 8) are loaded as zeros and masked where they would not stay zero.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// LayerNorm over rows of `cols` Floats, in any arithmetic.
public enum LayerNormKernel {
    /// Where a block of rows is: row r of input, out, dout and dinput at `+ r * cols`; per-row
    /// mean and 1/std at `+ r`; the weight and bias (cols each) shared by every row.
    public struct Rows {
        /// Rows in the block and Floats per row.
        public var rows: Int, cols: Int
        /// The normalised tensor's rows (forward input, read again by the backward).
        public var input: UnsafePointer<Float>
        /// The gain and the optional shift (read by the forward; the backward's dbias is its own argument).
        public var weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?
        /// Per-row mean and 1/std: written by the forward, read by the backward.
        public var mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>

        /// A block's geometry, as named by the properties.
        public init(rows: Int, cols: Int, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
            self.rows = rows
            self.cols = cols
            self.input = input
            self.weight = weight
            self.bias = bias
            self.mean = mean
            self.rstd = rstd
        }
    }

    /// out = (x - mean) rstd weight (+ bias) per row, with rstd = 1 / sqrt(var + epsilon) (the
    /// biased variance, two passes over the row); saves mean and rstd.
    @inlinable @inline(__always)
    public static func forward<A: VectorArithmetic>(_ arithmetic: A.Type, _ block: Rows, epsilon: Float,
                                                    out: UnsafeMutablePointer<Float>) {
        let cols = block.cols, inverseCols = 1 / Float(cols)
        for row in 0..<block.rows {
            let x = block.input + row * cols, y = out + row * cols
            let m = sum(cols) { j, lanes in load(x + j, lanes) } * inverseCols
            let mean = Float8(repeating: m)
            let variance = sum(cols, masked: true) { j, lanes in
                let d = load(x + j, lanes) - mean
                return d * d
            } * inverseCols
            let s = 1 / sqrtf(variance + epsilon)
            block.mean[row] = m
            block.rstd[row] = s
            let scale = Float8(repeating: s)
            forEachVector(cols) { j, count in
                let xhat = (load(x + j, count) - mean) * scale
                let shift = block.bias.map { load($0 + j, count) } ?? Float8()
                store(A.multiplyAdd(xhat, load(block.weight + j, count), shift), y + j, count)
            }
        }
    }

    /// With xhat = (x - mean) rstd and g = dout weight, per row:
    ///   dinput += rstd (g - mean(g) - xhat mean(g xhat)),  dweight += dout xhat,  dbias += dout
    /// (dweight and dbias: the caller's partial sums for this block; dbias only with a bias).
    @inlinable @inline(__always)
    public static func backward<A: VectorArithmetic>(_ arithmetic: A.Type, _ block: Rows, dout: UnsafePointer<Float>,
                                                     dinput: UnsafeMutablePointer<Float>,
                                                     dweight: UnsafeMutablePointer<Float>,
                                                     dbias: UnsafeMutablePointer<Float>?) {
        let cols = block.cols, inverseCols = 1 / Float(cols), w = block.weight
        for row in 0..<block.rows {
            let x = block.input + row * cols, dy = dout + row * cols, dx = dinput + row * cols
            let mean = Float8(repeating: block.mean[row]), scale = Float8(repeating: block.rstd[row])
            // Dead lanes load as zero in dout, so g and g·xhat are zero there without a mask.
            let meanG = sum(cols) { j, lanes in load(dy + j, lanes) * load(w + j, lanes) } * inverseCols
            let meanGX = sum(cols) { j, lanes in
                load(dy + j, lanes) * load(w + j, lanes) * ((load(x + j, lanes) - mean) * scale)
            } * inverseCols
            let meanGVector = Float8(repeating: meanG), meanGXVector = Float8(repeating: meanGX)
            forEachVector(cols) { j, count in
                let d = load(dy + j, count)
                let xhat = (load(x + j, count) - mean) * scale
                let g = d * load(w + j, count)
                let centred = A.multiplyAdd(-xhat, meanGXVector, g - meanGVector)
                store(A.multiplyAdd(centred, scale, load(dx + j, count)), dx + j, count)
                store(A.multiplyAdd(d, xhat, load(dweight + j, count)), dweight + j, count)
                if let dbias { store(load(dbias + j, count) + d, dbias + j, count) }
            }
        }
    }

    /// The sum over j < count of the lanes of `term(j, lanes)`, called at every multiple of 8
    /// below count with the lanes it may load (8, or the tail's length: `load` zero-pads); the
    /// tail's lanes past count are zeroed when `masked` (terms that are not zero there). Four
    /// partial sums, so consecutive vectors do not wait for each other's add.
    @inlinable @inline(__always)
    static func sum(_ count: Int, masked: Bool = false, _ term: (_ start: Int, _ lanes: Int) -> Float8) -> Float {
        var s0 = Float8(), s1 = Float8(), s2 = Float8(), s3 = Float8()
        var j = 0
        while j + 32 <= count {
            s0 += term(j, 8)
            s1 += term(j + 8, 8)
            s2 += term(j + 16, 8)
            s3 += term(j + 24, 8)
            j += 32
        }
        while j + 8 <= count {
            s0 += term(j, 8)
            j += 8
        }
        if j < count {
            let tail = term(j, count - j)
            s1 += masked ? tail.replacing(with: 0, where: AttentionRows.deadLanes(from: count - j)) : tail
        }
        return ((s0 + s1) + (s2 + s3)).sum()
    }

    /// `body(j, n)` for j = 0, 8, … below count, with n = 8 for whole vectors and the tail's length last.
    @inlinable @inline(__always)
    static func forEachVector(_ count: Int, _ body: (_ start: Int, _ lanes: Int) -> Void) {
        var j = 0
        while j + 8 <= count {
            body(j, 8)
            j += 8
        }
        if j < count { body(j, count - j) }
    }

    /// Eight Floats, or the first `lanes` (< 8) with the rest zero.
    @inlinable @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>, _ lanes: Int) -> Float8 {
        lanes == 8 ? Vector.load(pointer) : Vector.load(pointer, count: lanes)
    }

    @inlinable @inline(__always)
    static func load(_ pointer: UnsafeMutablePointer<Float>, _ lanes: Int) -> Float8 {
        load(UnsafePointer(pointer), lanes)
    }

    /// Stores eight lanes, or the first `lanes` (< 8).
    @inlinable @inline(__always)
    static func store(_ value: Float8, _ pointer: UnsafeMutablePointer<Float>, _ lanes: Int) {
        if lanes == 8 { Vector.store(value, pointer) } else { Vector.store(value, pointer, count: lanes) }
    }
}
