// Elementwise ops (Kernels/elementwise.cl) and the bias gradient, a deterministic two-pass column
// reduction (Kernels/reduce.cl).

import Compute

extension OpenCLBackend {
    /// Work-items per work-group for one-element-per-item kernels.
    var elementThreads: Int { deviceInfo.elementThreads }

    public func add(out: BufferView, a: BufferView, b: BufferView) throws {
        try Check.count("add", "b", b, a.count)
        try Check.count("add", "out", out, a.count)
        try launchElementwise("elementwise_add", count: a.count, [.view(out), .view(a), .view(b), .int(a.count)],
                              bytes: 12)
    }

    public func addScaled(into y: BufferView, _ x: BufferView, alpha: Float) throws {
        try Check.count("addScaled", "y", y, x.count)
        try launchElementwise("elementwise_add_scaled", count: x.count,
                              [.view(y), .view(x), .float(alpha), .int(x.count)], bytes: 12)
    }

    public func scale(_ x: BufferView, by alpha: Float) throws {
        try launchElementwise("elementwise_scale", count: x.count, [.view(x), .float(alpha), .int(x.count)], bytes: 8)
    }

    public func addBias(out: BufferView, bias: BufferView, rows: Int, cols: Int) throws {
        try Check.positive("addBias", ["rows": rows, "cols": cols])
        try Check.count("addBias", "out", out, rows * cols)
        try Check.count("addBias", "bias", bias, cols)
        let local = [min(64, elementThreads), 1]
        try launch("elementwise_add_bias", program: "elementwise", global: [roundUp(cols, local[0]), rows],
                   local: local, [.view(out), .view(bias), .int(rows), .int(cols)],
                   profile: ("rows=\(rows) cols=\(cols)", Double(rows * cols), 8.0 * Double(rows * cols)))
    }

    public func biasBackward(dbias: BufferView, dout: BufferView, rows: Int, cols: Int) throws {
        try Check.positive("biasBackward", ["rows": rows, "cols": cols])
        try Check.count("biasBackward", "dout", dout, rows * cols)
        try Check.count("biasBackward", "dbias", dbias, cols)
        let (blocks, rowsPerBlock) = columnBlocks(rows: rows, cols: cols)
        let partials = try scratch(blocks * cols)
        let local = [min(64, elementThreads), 1]
        try launch("reduce_column_partials", program: "reduce", global: [roundUp(cols, local[0]), blocks],
                   local: local, [.view(partials), .view(dout), .int(rows), .int(cols), .int(rowsPerBlock)],
                   profile: ("rows=\(rows) cols=\(cols) blocks=\(blocks)", Double(rows * cols), 4.0 * Double(rows * cols)))
        try addColumns(into: dbias, partials: partials, cols: cols, blocks: blocks)
    }

    /// out[c] += sum over b of partials[b * cols + c] (second pass of every column reduction).
    func addColumns(into out: BufferView, partials: BufferView, cols: Int, blocks: Int) throws {
        let local = min(64, elementThreads)
        try launch("reduce_columns", program: "reduce", global: [roundUp(cols, local)], local: [local],
                   [.view(out), .view(partials), .int(cols), .int(blocks)],
                   profile: ("cols=\(cols) blocks=\(blocks)", Double(cols * blocks), 4.0 * Double(cols * (blocks + 2))))
    }

    /// One work-item per element, `bytes` moved per element (for the profile).
    private func launchElementwise(_ kernel: String, count: Int, _ arguments: [KernelArgument], bytes: Double) throws {
        let local = elementThreads
        try launch(kernel, program: "elementwise", global: [roundUp(count, local)], local: [local], arguments,
                   profile: ("n=\(count)", Double(count), bytes * Double(count)))
    }
}
