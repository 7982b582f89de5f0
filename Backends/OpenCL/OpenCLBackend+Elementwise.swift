// Elementwise ops (Kernels/elementwise.cl) and the bias gradient, a deterministic two-pass column
// reduction (Kernels/reduce.cl).

import Compute

extension OpenCLBackend {
    /// Work-items per work-group for one-element-per-item kernels.
    var elementThreads: Int { deviceInfo.elementThreads }

    /// Enqueues `elementwise_add`; returns once queued.
    public func uncheckedAdd(out: BufferView, a: BufferView, b: BufferView) throws {
        try launchElementwise("elementwise_add", count: a.count, [.view(out), .view(a), .view(b), .int(a.count)])
    }

    /// Enqueues `elementwise_add_scaled`; returns once queued.
    public func uncheckedAddScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws {
        try launchElementwise("elementwise_add_scaled", count: x.count,
                              [.view(y), .view(x), .float(alpha), .int(x.count)])
    }

    /// Enqueues `elementwise_scale`; returns once queued.
    public func uncheckedScale(_ x: BufferView, by alpha: Float) throws {
        try launchElementwise("elementwise_scale", count: x.count, [.view(x), .float(alpha), .int(x.count)])
    }

    /// Enqueues `elementwise_add_bias`, one work-item per element; returns once queued.
    public func uncheckedAddBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        let local = [min(64, elementThreads), 1]
        try launch("elementwise_add_bias", program: .elementwise, global: [roundUp(cols, local[0]), rows],
                   local: local, [.view(out), .view(bias), .int(rows), .int(cols)])
    }

    /// Column sums in two ordered passes (`reduce_column_partials`, then `reduce_columns`), so
    /// the result does not depend on scheduling; returns once queued.
    public func uncheckedBiasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        let (blocks, rowsPerBlock) = columnBlocks(rows: rows, cols: cols)
        let partials = try scratch(blocks * cols)
        let local = [min(64, elementThreads), 1]
        try launch("reduce_column_partials", program: .reduce, global: [roundUp(cols, local[0]), blocks],
                   local: local, [.view(partials), .view(dout), .int(rows), .int(cols), .int(rowsPerBlock)])
        try addColumns(into: dbias, partials: partials, cols: cols, blocks: blocks)
    }

    /// out[c] += sum over b of partials[b * cols + c] (second pass of every column reduction).
    func addColumns(into out: BufferView, partials: BufferView, cols: Int, blocks: Int) throws {
        let local = min(64, elementThreads)
        try launch("reduce_columns", program: .reduce, global: [roundUp(cols, local)], local: [local],
                   [.view(out), .view(partials), .int(cols), .int(blocks)])
    }

    /// One work-item per element.
    private func launchElementwise(_ kernel: String, count: Int, _ arguments: [KernelArgument]) throws {
        let local = elementThreads
        try launch(kernel, program: .elementwise, global: [roundUp(count, local)], local: [local], arguments)
    }
}
