// LayerNorm and RMSNorm (Kernels/norm.cl): forward and dinput one work-group per row; weight and
// bias gradients as per-block column partials plus reduce.cl's ordered second pass.

import Compute

extension OpenCLBackend {
    /// Enqueues `norm_layer_forward`, one work-group per row; returns once queued.
    public func uncheckedLayerNormForward(out: BufferView, mean: BufferView, rstd: BufferView,
                                          input: BufferView, weight: BufferView, bias: BufferView?,
                                          rows: Int, cols: Int, epsilon: Float) throws {
        let threads = reductionThreads
        try launch("norm_layer_forward", program: .norm, defines: ["THREADS": "\(threads)"],
                   global: [rows * threads], local: [threads], [
                       .view(out), .view(mean), .view(rstd), .view(input), .view(weight), .view(bias ?? weight),
                       .int(bias == nil ? 0 : 1), .int(rows), .int(cols), .float(epsilon),
                   ])
    }

    /// Enqueues `norm_backward_input` per row, then the weight (and bias) gradients as column
    /// partials reduced in order; returns once queued.
    public func uncheckedLayerNormBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?,
                                           dout: BufferView, input: BufferView, weight: BufferView,
                                           mean: BufferView, rstd: BufferView, rows: Int, cols: Int) throws {
        try normBackward(dinput: dinput, dweight: dweight, dbias: dbias, dout: dout, input: input, weight: weight,
                         mean: mean, rstd: rstd, rows: rows, cols: cols, isRMS: false)
    }

    /// Enqueues `norm_rms_forward`, one work-group per row; returns once queued.
    public func uncheckedRMSNormForward(out: BufferView, rstd: BufferView, input: BufferView, weight: BufferView,
                                        rows: Int, cols: Int, epsilon: Float) throws {
        let threads = reductionThreads
        try launch("norm_rms_forward", program: .norm, defines: ["THREADS": "\(threads)"],
                   global: [rows * threads], local: [threads], [
                       .view(out), .view(rstd), .view(input), .view(weight), .int(rows), .int(cols), .float(epsilon),
                   ])
    }

    /// As the LayerNorm backward, without the mean and the bias; returns once queued.
    public func uncheckedRMSNormBackward(dinput: BufferView, dweight: BufferView, dout: BufferView,
                                         input: BufferView, weight: BufferView, rstd: BufferView,
                                         rows: Int, cols: Int) throws {
        try normBackward(dinput: dinput, dweight: dweight, dbias: nil, dout: dout, input: input, weight: weight,
                         mean: rstd, rstd: rstd, rows: rows, cols: cols, isRMS: true)
    }

    /// dinput (one work-group per row), then dweight/dbias partials per row block and their sums.
    /// For RMSNorm `mean` is a stand-in (not read).
    private func normBackward(dinput: BufferView, dweight: BufferView, dbias: BufferView?, dout: BufferView,
                              input: BufferView, weight: BufferView, mean: BufferView, rstd: BufferView,
                              rows: Int, cols: Int, isRMS: Bool) throws {
        let threads = reductionThreads
        try launch("norm_backward_input", program: .norm, defines: ["THREADS": "\(threads)"],
                   global: [rows * threads], local: [threads], [
                       .view(dinput), .view(dout), .view(input), .view(weight), .view(mean), .view(rstd),
                       .int(rows), .int(cols), .int(isRMS ? 1 : 0),
                   ])
        let (blocks, rowsPerBlock) = columnBlocks(rows: rows, cols: cols)
        let partials = try scratch((dbias == nil ? 1 : 2) * blocks * cols)
        let local = [min(64, elementThreads), 1]
        try launch("norm_weight_partials", program: .norm, defines: ["THREADS": "\(threads)"],
                   global: [roundUp(cols, local[0]), blocks], local: local, [
                       .view(partials), .view(dout), .view(input), .view(mean), .view(rstd), .int(rows), .int(cols),
                       .int(rowsPerBlock), .int(isRMS ? 1 : 0), .int(dbias == nil ? 0 : 1),
                   ])
        try addColumns(into: dweight, partials: partials.view(offset: 0, count: blocks * cols), cols: cols, blocks: blocks)
        if let dbias {
            try addColumns(into: dbias, partials: partials.view(offset: blocks * cols, count: blocks * cols),
                           cols: cols, blocks: blocks)
        }
    }
}
