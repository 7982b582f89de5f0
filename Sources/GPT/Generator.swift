// Autoregressive generation: run the model on the last min(n, contextLength) tokens (B = 1), sample
// from the logits of the last position, append, repeat. The window slides once the context is full.
// Recomputes the whole window each step (no KV cache yet): O(T) forwards of length <= T.

public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case emptyPrompt
    case negativeTokenCount(Int)

    public var description: String {
        switch self {
        case .emptyPrompt: return "the prompt must hold at least one token"
        case let .negativeTokenCount(count): return "the number of tokens to generate must be >= 0, got \(count)"
        }
    }
}

public struct Generator {
    public let model: GPTModel

    public init(model: GPTModel) { self.model = model }

    /// Generates `maxTokens` tokens after `prompt`, calling `onToken` with each as soon as it is
    /// sampled (for streaming), and returns the generated tokens (without the prompt).
    @discardableResult
    public func generate(prompt: [Int32], maxTokens: Int, sampler: inout Sampler,
                         onToken: (Int32) throws -> Void = { _ in }) throws -> [Int32] {
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        guard maxTokens >= 0 else { throw GenerationError.negativeTokenCount(maxTokens) }
        let context = model.config.contextLength
        var window = Array(prompt.suffix(context))
        var generated: [Int32] = []
        generated.reserveCapacity(maxTokens)
        for _ in 0..<maxTokens {
            try model.forward(tokens: window, targets: nil, batch: 1, length: window.count)
            let next = try sampler.sample(try model.logits(row: window.count - 1))
            generated.append(next)
            try onToken(next)
            if window.count == context { window.removeFirst() }
            window.append(next)
        }
        return generated
    }
}
