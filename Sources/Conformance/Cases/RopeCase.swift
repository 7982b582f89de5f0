// Conformance cases for rotary position embedding, forward and backward (both in place).

import Compute

/// RoPE over a (B, T, 3C) qkv-shaped buffer: row stride 3C, the first 2·NH heads (q and k) rotated,
/// v untouched (its exact survival is part of the comparison).
///
/// Tolerance: angles are pos·theta^(-2i/hs) with pos up to ~260; computing the angle in float32
/// instead of Double shifts it by up to pos·eps ≈ 2e-5 rad, which moves rotated values by the same
/// relative amount. Relative 1e-4, NMSE 1e-9.
public struct RopeCase: OpCase {
    /// Runs the backward op (fed by a forward on the same inputs) instead of the forward.
    public let backward: Bool
    /// B, T, NH heads of hs = `headDim` (even) floats.
    public let batch: Int, sequenceLength: Int, heads: Int, headDim: Int
    /// Position of the first row (a KV-cache continuation starts past 0).
    public let positionOffset: Int
    /// The rotation base: head pair i turns by pos·theta^(-2i/hs).
    public let theta: Float

    /// One RoPE case; theta defaults to 10,000 (Llama's).
    public init(backward: Bool, batch: Int, sequenceLength: Int, heads: Int, headDim: Int,
                positionOffset: Int = 0, theta: Float = 10_000) {
        self.backward = backward
        self.batch = batch
        self.sequenceLength = sequenceLength
        self.heads = heads
        self.headDim = headDim
        self.positionOffset = positionOffset
        self.theta = theta
    }

    /// The `Op` raw value of the call under test (what `--op` selects by).
    public var op: String { (backward ? Op.ropeBackward : Op.ropeForward).rawValue }
    /// Shape and options as `key=value` pairs, as the result line prints them.
    public var parameters: String {
        "B=\(batch),T=\(sequenceLength),NH=\(heads),hs=\(headDim),offset=\(positionOffset),theta=\(theta)"
    }
    /// Derived from `description`: the same case draws the same inputs on every run.
    public var seed: UInt64 { Self.seed(for: description) }
    /// The bound derived in the type's doc comment.
    public var tolerance: Tolerance { Tolerance(nmse: 1e-9, relative: 1e-4) }

    /// Draws the seeded inputs and the guarded outputs through `harness`, then makes the one call
    /// under test on `harness.backend`.
    public func execute(_ harness: OpHarness) throws {
        let channels = heads * headDim, rows = batch * sequenceLength
        let x = try harness.output("x", initial: harness.normal(rows * 3 * channels))
        if backward {
            try harness.backend.ropeBackward(x, rows: rows, sequenceLength: sequenceLength, rowStride: 3 * channels,
                                             heads: 2 * heads, headDim: headDim, theta: theta,
                                             positionOffset: positionOffset)
        } else {
            try harness.backend.ropeForward(x, rows: rows, sequenceLength: sequenceLength, rowStride: 3 * channels,
                                            heads: 2 * heads, headDim: headDim, theta: theta,
                                            positionOffset: positionOffset)
        }
    }

    static func catalogue(extended: Bool) -> [any ConformanceCase] {
        var shapes = [(1, 1, 1, 2, 0), (2, 17, 2, 16, 0), (1, 65, 3, 40, 5), (2, 127, 1, 64, 0), (1, 257, 1, 72, 3)]
        if extended { shapes.append((4, 1024, 12, 64, 0)) }
        return [false, true].flatMap { backward in
            shapes.map {
                RopeCase(backward: backward, batch: $0.0, sequenceLength: $0.1, heads: $0.2, headDim: $0.3,
                         positionOffset: $0.4) as any ConformanceCase
            }
        }
    }
}
