// Matmul for the reference backend: strided batched GEMM, C = alpha * op(A) * op(B) + beta * C,
// every dot product accumulated in Double.
//
// How it stays fast without losing exactness: op(A)'s rows and op(B)'s columns are first packed into
// Double arrays with k contiguous (O(mk + nk) work, negligible next to the O(mnk) products), zero
// padded to an even k. Each C element is then the dot product of two contiguous Double arrays, taken
// with SIMD2<Double> lanes for a 4-row × 2-column block at a time, so every load feeds several
// multiply-adds. Products of two Floats are exact in Double, so only the summation order differs
// from a naive loop (the error is ~1e-16 relative, far below Float's 6e-8). Row blocks run in parallel.

import Compute
import HostMemory

extension ReferenceBackend {
    /// Packs op(A) rows and op(B) columns into Double and takes every dot product in Double, blocked
    /// for registers (see the file's header).
    public func uncheckedMatmul(c: BufferView, a: BufferView, b: BufferView,
                                m: Int, n: Int, k: Int,
                                transposeA: Bool, transposeB: Bool,
                                alpha: Float, beta: Float,
                                batch: Int, strideA: Int, strideB: Int, strideC: Int) throws {
        let aBase = a.hostFloats
        let bBase = b.hostFloats
        let cBase = c.hostFloats

        // Packed operands: row i of op(A_bi) at packedA[(bi*m + i) * kPadded], column j of
        // op(B_bi) at packedB[(bi*n + j) * kPadded].
        let kPadded = (k + 1) & ~1
        let packedA = UnsafeMutablePointer<Double>.allocate(capacity: batch * m * kPadded)
        let packedB = UnsafeMutablePointer<Double>.allocate(capacity: batch * n * kPadded)
        defer {
            packedA.deallocate()
            packedB.deallocate()
        }
        parallelFor(batch * m, grain: rowGrain(k)) { rows in
            for row in rows {
                let (bi, i) = row.quotientAndRemainder(dividingBy: m)
                let source = aBase + bi * strideA
                let destination = packedA + row * kPadded
                for p in 0..<k {
                    destination[p] = Double(transposeA ? source[p * m + i] : source[i * k + p])
                }
                if kPadded > k { destination[k] = 0 }
            }
        }
        parallelFor(batch * n, grain: rowGrain(k)) { columns in
            for column in columns {
                let (bi, j) = column.quotientAndRemainder(dividingBy: n)
                let source = bBase + bi * strideB
                let destination = packedB + column * kPadded
                for p in 0..<k {
                    destination[p] = Double(transposeB ? source[j * k + p] : source[p * n + j])
                }
                if kPadded > k { destination[k] = 0 }
            }
        }

        let alpha = Double(alpha), beta = Double(beta)
        let blocksPerMatrix = (m + 3) / 4
        parallelFor(batch * blocksPerMatrix, grain: max(1, 65_536 / (4 * n * k))) { blocks in
            for block in blocks {
                let (bi, rowBlock) = block.quotientAndRemainder(dividingBy: blocksPerMatrix)
                let c = cBase + bi * strideC
                let aRows = packedA + bi * m * kPadded
                let bColumns = packedB + bi * n * kPadded
                // beta == 0 must ignore C's old contents, even NaN.
                @inline(__always) func store(_ dot: Double, _ i: Int, _ j: Int) {
                    let index = i * n + j
                    c[index] = Float(beta == 0 ? alpha * dot : alpha * dot + beta * Double(c[index]))
                }
                let i0 = rowBlock * 4
                if i0 + 4 <= m {
                    var j = 0
                    while j + 2 <= n {
                        let dots = Self.dot4x2(aRows + i0 * kPadded, bColumns + j * kPadded, kPadded)
                        for r in 0..<4 {
                            store(dots[2 * r], i0 + r, j)
                            store(dots[2 * r + 1], i0 + r, j + 1)
                        }
                        j += 2
                    }
                    if j < n {
                        for r in 0..<4 {
                            store(Self.dot(aRows + (i0 + r) * kPadded, bColumns + j * kPadded, kPadded), i0 + r, j)
                        }
                    }
                } else {
                    for i in i0..<m {
                        for j in 0..<n {
                            store(Self.dot(aRows + i * kPadded, bColumns + j * kPadded, kPadded), i, j)
                        }
                    }
                }
            }
        }
    }

    /// Dot products of 4 consecutive packed rows (stride `length`) with 2 consecutive packed
    /// columns, in the order (r0c0, r0c1, r1c0, r1c1, ...). `length` is even.
    @inline(__always)
    static func dot4x2(_ rows: UnsafePointer<Double>, _ columns: UnsafePointer<Double>,
                       _ length: Int) -> SIMD8<Double> {
        typealias Lanes = SIMD2<Double>
        let a0 = UnsafeRawPointer(rows), a1 = UnsafeRawPointer(rows + length)
        let a2 = UnsafeRawPointer(rows + 2 * length), a3 = UnsafeRawPointer(rows + 3 * length)
        let b0 = UnsafeRawPointer(columns), b1 = UnsafeRawPointer(columns + length)
        var c00 = Lanes(), c01 = Lanes(), c10 = Lanes(), c11 = Lanes()
        var c20 = Lanes(), c21 = Lanes(), c30 = Lanes(), c31 = Lanes()
        for pair in 0..<(length / 2) {
            let offset = pair * MemoryLayout<Lanes>.stride
            let x0 = a0.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
            let x1 = a1.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
            let x2 = a2.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
            let x3 = a3.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
            let y0 = b0.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
            let y1 = b1.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
            c00 += x0 * y0; c01 += x0 * y1
            c10 += x1 * y0; c11 += x1 * y1
            c20 += x2 * y0; c21 += x2 * y1
            c30 += x3 * y0; c31 += x3 * y1
        }
        return SIMD8(c00.sum(), c01.sum(), c10.sum(), c11.sum(),
                     c20.sum(), c21.sum(), c30.sum(), c31.sum())
    }

    /// One dot product of two packed Double arrays of even `length`.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ length: Int) -> Double {
        var sum = SIMD2<Double>()
        let xRaw = UnsafeRawPointer(x), yRaw = UnsafeRawPointer(y)
        for pair in 0..<(length / 2) {
            let offset = pair * MemoryLayout<SIMD2<Double>>.stride
            sum += xRaw.loadUnaligned(fromByteOffset: offset, as: SIMD2<Double>.self)
                * yRaw.loadUnaligned(fromByteOffset: offset, as: SIMD2<Double>.self)
        }
        return sum.sum()
    }
}
