// The parameters of a model that can only continue a fixed chain of tokens: each token of the chain
// is followed, with near certainty, by the next one. Tests use it to force a model to emit a given
// token (an end-of-sequence token) at a given point, through the library or through the CLI.
//
// How: every parameter is zero except the token embedding of chain token k (one-hot in channel k),
// the final norm's gain (1) and the output head row of token k+1 (`margin` in channel k). With the
// block weights zero, attention and feed-forward add nothing, so the last layer's input is the
// current token's embedding (a RoPE model has no position embedding to add); RMSNorm turns the
// one-hot into sqrt(C) in channel k, so token k+1 gets logit margin * sqrt(C) and every other token
// 0. A token outside the chain has a zero embedding, hence all logits 0.
// Written against offsets rather than GPT's types, so TestSupport needs no module but Compute.

public struct TokenChain {
    /// The chain, first token to last; distinct, so each has one successor.
    public let tokens: [Int32]
    /// How far the successor's logit is above every other one, per unit of sqrt(C).
    public var margin: Float = 100

    /// A chain of distinct tokens with at least one link.
    public init(_ tokens: [Int32]) {
        precondition(tokens.count >= 2 && Set(tokens).count == tokens.count, "a chain needs two or more distinct tokens")
        self.tokens = tokens
    }

    /// The flat parameter vector of a RoPE, RMSNorm, untied model of `channels` channels and
    /// `count` parameters whose token embedding ([V, C]), final norm gain ([C]) and output head
    /// ([V, C]) start at the given offsets. Needs a channel per link.
    public func parameters(count: Int, channels: Int, tokenEmbedding: Int, finalNormWeight: Int,
                           outputHead: Int) -> [Float] {
        precondition(tokens.count - 1 <= channels, "a chain of \(tokens.count) tokens needs \(tokens.count - 1) channels")
        var values = [Float](repeating: 0, count: count)
        for channel in 0..<channels { values[finalNormWeight + channel] = 1 }
        for (link, (token, next)) in zip(tokens, tokens.dropFirst()).enumerated() {
            values[tokenEmbedding + Int(token) * channels + link] = 1
            values[outputHead + Int(next) * channels + link] = margin
        }
        return values
    }
}
