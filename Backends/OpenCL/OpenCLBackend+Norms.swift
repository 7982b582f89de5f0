// LayerNorm and RMSNorm (Kernels/norm.cl): forward and dinput one work-group per row; weight and
// bias gradients as per-block column partials plus reduce.cl's ordered second pass.

import Compute

extension OpenCLBackend {
    public func layerNormForward(out: BufferView, mean: BufferView, rstd: BufferView,
                                 input: BufferView, weight: BufferView, bias: BufferView?,
                                 rows: Int, cols: Int, epsilon: Float) throws {
        let op = "layerNormForward"
        try checkNorm(op, rows: rows, cols: cols, [("out", out), ("input", input)], [("weight", weight)],
                      [("mean", mean), ("rstd", rstd)])
        if let bias { try Check.count(op, "bias", bias, cols) }
        let threads = reductionThreads
        try launch("norm_layer_forward", program: "norm", defines: ["THREADS": "\(threads)"],
                   global: [rows * threads], local: [threads], [
                       .view(out), .view(mean), .view(rstd), .view(input), .view(weight), .view(bias ?? weight),
                       .int(bias == nil ? 0 : 1), .int(rows), .int(cols), .float(epsilon),
                   ], profile: ("rows=\(rows) cols=\(cols)", 8.0 * Double(rows * cols), 8.0 * Double(rows * cols)))
    }

    public func layerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?,
                                  dout: BufferView, input: BufferView, weight: BufferView,
                                  mean: BufferView, rstd: BufferView, rows: Int, cols: Int) throws {
        let op = "layerNormBackward"
        try checkNorm(op, rows: rows, cols: cols, [("dinput", dinput), ("dout", dout), ("input", input)],
                      [("dweight", dweight), ("weight", weight)], [("mean", mean), ("rstd", rstd)])
        if let dbias { try Check.count(op, "dbias", dbias, cols) }
        try normBackward(dinput: dinput, dweight: dweight, dbias: dbias, dout: dout, input: input, weight: weight,
                         mean: mean, rstd: rstd, rows: rows, cols: cols, isRMS: false)
    }

    public func rmsNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                               rows: Int, cols: Int, epsilon: Float) throws {
        try checkNorm("rmsNormForward", rows: rows, cols: cols, [("out", out), ("input", input)],
                      [("weight", weight)], [("rstd", rstd)])
        let threads = reductionThreads
        try launch("norm_rms_forward", program: "norm", defines: ["THREADS": "\(threads)"],
                   global: [rows * threads], local: [threads], [
                       .view(out), .view(rstd), .view(input), .view(weight), .int(rows), .int(cols), .float(epsilon),
                   ], profile: ("rows=\(rows) cols=\(cols)", 5.0 * Double(rows * cols), 8.0 * Double(rows * cols)))
    }

    public func rmsNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView,
                                input: BufferView, weight: BufferView, rstd: BufferView,
                                rows: Int, cols: Int) throws {
        try checkNorm("rmsNormBackward", rows: rows, cols: cols, [("dinput", dinput), ("dout", dout), ("input", input)],
                      [("dweight", dweight), ("weight", weight)], [("rstd", rstd)])
        try normBackward(dinput: dinput, dweight: dweight, dbias: nil, dout: dout, input: input, weight: weight,
                         mean: rstd, rstd: rstd, rows: rows, cols: cols, isRMS: true)
    }

    /// dinput (one work-group per row), then dweight/dbias partials per row block and their sums.
    /// For RMSNorm `mean` is a stand-in (not read).
    private func normBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?, dout: BufferView,
                              input: BufferView, weight: BufferView, mean: BufferView, rstd: BufferView,
                              rows: Int, cols: Int, isRMS: Bool) throws {
        let threads = reductionThreads
        let size = Double(rows * cols)
        try launch("norm_backward_input", program: "norm", defines: ["THREADS": "\(threads)"],
                   global: [rows * threads], local: [threads], [
                       .view(dinput), .view(dout), .view(input), .view(weight), .view(mean), .view(rstd),
                       .int(rows), .int(cols), .int(isRMS ? 1 : 0),
                   ], profile: ("rows=\(rows) cols=\(cols)", 12.0 * size, 20.0 * size))
        let (blocks, rowsPerBlock) = columnBlocks(rows: rows, cols: cols)
        let partials = try scratch((dbias == nil ? 1 : 2) * blocks * cols)
        let local = [min(64, elementThreads), 1]
        try launch("norm_weight_partials", program: "norm", defines: ["THREADS": "\(threads)"],
                   global: [roundUp(cols, local[0]), blocks], local: local, [
                       .view(partials), .view(dout), .view(input), .view(mean), .view(rstd), .int(rows), .int(cols),
                       .int(rowsPerBlock), .int(isRMS ? 1 : 0), .int(dbias == nil ? 0 : 1),
                   ], profile: ("rows=\(rows) cols=\(cols) blocks=\(blocks)", 4.0 * size, 8.0 * size))
        try addColumns(into: dweight, partials: partials.view(offset: 0, count: blocks * cols), cols: cols, blocks: blocks)
        if let dbias {
            try addColumns(into: dbias, partials: partials.view(offset: blocks * cols, count: blocks * cols),
                           cols: cols, blocks: blocks)
        }
    }

    /// Shape checks shared by the four norm ops: N×C matrices, C vectors, N row statistics.
    private func checkNorm(_ op: String, rows: Int, cols: Int, _ matrices: [(String, BufferView)],
                           _ vectors: [(String, BufferView)], _ statistics: [(String, BufferView)]) throws {
        try Check.positive(op, ["rows": rows, "cols": cols])
        for (name, view) in matrices { try Check.count(op, name, view, rows * cols) }
        for (name, view) in vectors { try Check.count(op, name, view, cols) }
        for (name, view) in statistics { try Check.count(op, name, view, rows) }
    }
}
