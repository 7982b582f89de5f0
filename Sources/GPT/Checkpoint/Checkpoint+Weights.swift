// From Hugging Face tensors to the flat parameter buffer: every tensor the layout names, under its
// Hugging Face name and shape, checked by shape for all of them before the buffer is allocated
// (so a config whose sizes the files do not hold is refused before its memory is taken), then
// read one at a time, widened to float32 and, for GPT-2's Conv1D weights, transposed.
//
// Names also match as older transformers saved them: GPT-2 checkpoints on the Hub store the base
// model's tensors without the "transformer." prefix (`h.0.attn.c_attn.weight`). Buffers that are
// not parameters (GPT-2's causal-mask `attn.bias` and `attn.masked_bias`, Llama's
// `rotary_emb.inv_freq`) are recomputed from the config, as transformers does, so they are skipped;
// any other tensor the model does not have is refused.

extension Checkpoint {
    /// The flat parameter buffer from `source`, checking every name and shape against `layout`.
    static func parameterValues(from source: some TensorSource, config: ModelConfig,
                                layout: ParameterLayout) throws -> [Float] {
        var unclaimed = Set(source.names)
        var reads: [(entry: ParameterEntry, stored: String)] = []
        for entry in layout.entries {
            guard let stored = storedName(of: entry.name, in: source) else {
                throw CheckpointError(path: source.location,
                                      reason: "missing tensor '\(entry.name)' (expected shape \(entry.huggingFaceShape))")
            }
            let shape = source.shape(of: stored)!
            guard shape == entry.huggingFaceShape else {
                throw CheckpointError(path: source.file(of: stored), reason: "tensor '\(stored)' has shape \(shape), "
                                      + "but config.json implies \(entry.huggingFaceShape)")
            }
            unclaimed.remove(stored)
            reads.append((entry, stored))
        }
        let zeroBiases = layout.usesLlamaNames ? [] : gpt2BiasShapes(config).compactMap { bias -> (String, [Int])? in
            guard layout.entry(named: bias.name) == nil, let stored = storedName(of: bias.name, in: source) else { return nil }
            unclaimed.remove(stored)
            return (stored, bias.shape)
        }
        if let extra = unclaimed.filter({ !isRecomputedBuffer($0) }).sorted().first {
            throw CheckpointError(path: source.file(of: extra),
                                  reason: "unexpected tensor '\(extra)' (not part of the model that config.json describes)")
        }

        var values = [Float](repeating: 0, count: layout.count)
        for (entry, stored) in reads {
            let tensor = try source.values(of: stored)
            // A NaN or an infinity in a weight poisons every output; nothing saves one on purpose.
            if let bad = tensor.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError(path: source.file(of: stored), reason: "tensor '\(stored)' holds \(tensor[bad]) "
                                      + "at element \(bad)")
            }
            let ours = entry.huggingFaceTransposed ? transpose(tensor, rows: entry.shape[1], columns: entry.shape[0]) : tensor
            values.replaceSubrange(entry.offset ..< entry.offset + entry.count, with: ours)
        }
        for (stored, shape) in zeroBiases {
            guard source.shape(of: stored) == shape, try source.values(of: stored).allSatisfy({ $0 == 0 }) else {
                throw CheckpointError(path: source.file(of: stored), reason: "tensor '\(stored)' must be all zeros with shape "
                                      + "\(shape): the model has no biases (config bias: false)")
            }
        }
        return values
    }

    /// The flat parameter buffer from tensors in memory (`file` names them in errors).
    static func parameterValues(from tensors: [NamedTensor], config: ModelConfig, layout: ParameterLayout,
                                file: String) throws -> [Float] {
        try parameterValues(from: InMemoryTensors(tensors, file: file), config: config, layout: layout)
    }

    /// How `source` names the tensor the layout calls `name`: as is, or without GPT-2's
    /// "transformer." prefix.
    private static func storedName(of name: String, in source: some TensorSource) -> String? {
        if source.shape(of: name) != nil { return name }
        let prefix = "transformer."
        guard name.hasPrefix(prefix) else { return nil }
        let bare = String(name.dropFirst(prefix.count))
        return source.shape(of: bare) != nil ? bare : nil
    }

    /// Buffers transformers saved in older checkpoints and rebuilds from the config on load.
    private static func isRecomputedBuffer(_ name: String) -> Bool {
        let parts = name.split(separator: ".")
        if name.hasSuffix(".rotary_emb.inv_freq") { return true }
        guard let last = parts.last, last == "bias" || last == "masked_bias", parts.count >= 4,
              parts[parts.count - 2] == "attn", parts[parts.count - 4] == "h" else { return false }
        return parts.count == 4 || (parts.count == 5 && parts[0] == "transformer")
    }
}
