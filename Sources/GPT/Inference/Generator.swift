// Autoregressive generation: sample from the logits of the last position, append, repeat (B = 1).
//
// With the KV cache (the default, where the backend has the kernel) each new token costs one
// incremental step over one row. When the context is full the window slides: the cache is refilled
// with the last half of the context, so the refill cost is spread over T/2 tokens.
// Without the cache every token recomputes the whole window of the last min(n, T) tokens.
// Generation ends early at a stop token (the tokenizer's end-of-sequence ids, `stopTokens`).

import Compute

/// A generation request that cannot be run.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    /// Generation continues a prompt, so it needs one token at least.
    case emptyPrompt
    /// A negative number of tokens to generate.
    case negativeTokenCount(Int)

    public var description: String {
        switch self {
        case .emptyPrompt: return "the prompt must hold at least one token"
        case let .negativeTokenCount(count): return "the number of tokens to generate must be at least 0, got \(count)"
        }
    }
}

/// Autoregressive generation from a model: with a KV cache where the backend has the kernel,
/// else by recomputing the window.
public struct Generator {
    /// The model that predicts each next token.
    public let model: GPTModel
    /// Use the KV cache; falls back to recomputing the window on backends without the kernel.
    public var useKVCache: Bool
    /// Sampling one of these ends generation (e.g. `tokenizer.sequenceBoundaries.endOfSequence`).
    public var stopTokens: Set<Int32>

    /// A generator over `model`; `useKVCache: false` recomputes the whole window for every token;
    /// sampling a token in `stopTokens` ends generation.
    public init(model: GPTModel, useKVCache: Bool = true, stopTokens: Set<Int32> = []) {
        self.model = model
        self.useKVCache = useKVCache
        self.stopTokens = stopTokens
    }

    /// Generates up to `maxTokens` tokens after `prompt`, calling `onToken` with each as soon as it
    /// is sampled (for streaming), and returns the generated tokens (without the prompt). A stop
    /// token ends the returned tokens, as in transformers' output, but is not passed to `onToken`:
    /// it is not text to show.
    @discardableResult
    public func generate(prompt: [Int32], maxTokens: Int, sampler: inout Sampler,
                         onToken: (Int32) throws -> Void = { _ in }) throws -> [Int32] {
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        guard maxTokens >= 0 else { throw GenerationError.negativeTokenCount(maxTokens) }
        if useKVCache, maxTokens > 0 {
            do {
                return try generateCached(prompt: prompt, maxTokens: maxTokens, sampler: &sampler, onToken: onToken)
            } catch BackendError.unsupported(op: Op.attentionCachedForward.rawValue, _, _) {
                // This backend has no KV-cache kernel: recompute instead (nothing was sampled yet).
            }
        }
        let context = model.config.contextLength
        var window = Array(prompt.suffix(context))
        var generated: [Int32] = []
        generated.reserveCapacity(min(maxTokens, 1 << 16))  // maxTokens may be huge
        for _ in 0..<maxTokens {
            try model.forward(tokens: window, targets: nil, batch: 1, length: window.count)
            let next = try sampler.sample(try model.logits(row: window.count - 1), recent: window)
            generated.append(next)
            if stopTokens.contains(next) { break }
            try onToken(next)
            if window.count == context { window.removeFirst() }
            window.append(next)
        }
        return generated
    }

    private func generateCached(prompt: [Int32], maxTokens: Int, sampler: inout Sampler,
                                onToken: (Int32) throws -> Void) throws -> [Int32] {
        let context = model.config.contextLength
        let cache = try model.makeKVCache()
        var window = Array(prompt.suffix(context))
        var logits = try model.forwardCached(tokens: window, cache: cache)
        var generated: [Int32] = []
        generated.reserveCapacity(min(maxTokens, 1 << 16))  // maxTokens may be huge
        for index in 0..<maxTokens {
            let next = try sampler.sample(logits, recent: window)
            generated.append(next)
            if stopTokens.contains(next) { break }
            try onToken(next)
            if index == maxTokens - 1 { break }
            window.append(next)
            if cache.length == context {
                window = Array(window.suffix(max(1, context / 2)))
                cache.reset()
                logits = try model.forwardCached(tokens: window, cache: cache)
            } else {
                logits = try model.forwardCached(tokens: [next], cache: cache)
            }
        }
        return generated
    }
}
