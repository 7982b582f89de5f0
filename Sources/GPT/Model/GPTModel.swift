// GPTModel: the one decoder-only transformer graph, written once against the Backend protocol.
//
//   B = batch size, T = sequence length, C = channels, NH = heads, hs = head size, F = FFN width,
//   V = vocabulary, L = layers, N = B*T rows.
//
// Parameters live in one flat buffer (layout in ParameterLayout.swift), gradients in a second.
// Forward (GPTModel+Forward.swift) and backward (GPTModel+Backward.swift) are explicit lists of op
// calls, layer by layer, llm.c style: no autograd. Nothing here knows which backend runs it.

import Compute

/// A decoder-only transformer on a backend: its parameters and gradients in two flat buffers,
/// forward and backward as explicit op calls.
public final class GPTModel {
    /// The architecture.
    public let config: ModelConfig
    /// Where its buffers live and its ops run.
    public let backend: any Backend
    /// Every tensor's name, shape and offset in the flat buffers.
    public let layout: ParameterLayout
    /// Flat parameters, `layout.count` floats.
    public let parameters: Buffer
    /// Flat gradients, same layout. Backward ACCUMULATES into it; `zeroGradients()` clears it.
    public let gradients: Buffer

    var activations: ActivationBuffers?
    /// What the last forward ran on, for backward and for reading logits.
    var last: ForwardState?

    /// Where a forward's dropout masks come from: the stream's seed, and the mask index of the
    /// batch's first element (nonzero for a part of a larger batch).
    struct DropoutStream {
        let seed: UInt64
        let firstIndex: Int
    }

    struct ForwardState {
        let batch: Int
        let length: Int
        let hasTargets: Bool
        /// Targets that count towards the mean loss (not -1).
        let targetCount: Int
        /// Dropout stream of the forward (nil: dropout off).
        let dropoutSeed: DropoutStream?
        /// Backward turns the logits into dlogits in place.
        var logitsValid: Bool
    }

    /// A model with GPT-2 style initial weights drawn from `seed`.
    public init(config: ModelConfig, backend: any Backend, seed: UInt64) throws {
        try config.validate()
        self.config = config
        self.backend = backend
        layout = ParameterLayout(config)
        parameters = try backend.allocate(layout.count, .float32)
        gradients = try backend.allocate(layout.count, .float32)
        try backend.upload(ParameterInit.values(config: config, layout: layout, seed: seed), to: parameters.all)
        try backend.fill(gradients.all, with: 0)
    }

    /// Number of trainable parameters (the fixed sinusoidal table excluded).
    public var trainableParameterCount: Int {
        layout.entries.filter(\.trainable).reduce(0) { $0 + $1.count }
    }

    // MARK: - Parameter and gradient access

    /// The parameters, downloaded, in `layout` order.
    public func parameterValues() throws -> [Float] { try backend.download(parameters.all) }

    /// Replaces every parameter with `values` (`layout.count` of them).
    public func loadParameterValues(_ values: [Float]) throws {
        guard values.count == layout.count else {
            throw ModelError.shape("expected \(layout.count) parameter values, got \(values.count)")
        }
        try backend.upload(values, to: parameters.all)
        last = nil
    }

    /// The gradients, downloaded, in `layout` order.
    public func gradientValues() throws -> [Float] { try backend.download(gradients.all) }

    /// Sets every gradient to zero (backward accumulates into them).
    public func zeroGradients() throws { try backend.fill(gradients.all, with: 0) }

    /// Parameter `name`'s slice of the flat buffer (`parameters` or `gradients`).
    func slice(_ buffer: Buffer, _ offset: Int, _ count: Int) -> BufferView {
        buffer.view(offset: offset, count: count)
    }

    // MARK: - Logits

    /// Logits of the last forward for row r = b*T + t, V floats.
    public func logits(row: Int) throws -> [Float] {
        let state = try readableLogits()
        guard (0..<(state.batch * state.length)).contains(row) else {
            throw ModelError.shape("logits row \(row) is outside 0..<\(state.batch * state.length)")
        }
        let v = config.vocabSize
        return try backend.download(activations!.logits.view(offset: row * v, count: v))
    }

    /// All logits of the last forward, (B*T, V) row-major.
    public func allLogits() throws -> [Float] {
        let state = try readableLogits()
        return try backend.download(activations!.logits.prefix(state.batch * state.length * config.vocabSize))
    }

    private func readableLogits() throws -> ForwardState {
        guard let state = last, state.logitsValid else {
            throw ModelError.state("no logits: run forward first (backward overwrites them with their gradient)")
        }
        return state
    }

    /// The activation buffers for `tokens` rows, reallocated only when a larger batch arrives.
    func activations(for tokens: Int) throws -> ActivationBuffers {
        if let existing = activations, existing.capacity >= tokens { return existing }
        activations = nil  // free the old set before allocating the larger one
        let fresh = try ActivationBuffers(config: config, capacity: tokens, backend: backend)
        activations = fresh
        return fresh
    }
}
