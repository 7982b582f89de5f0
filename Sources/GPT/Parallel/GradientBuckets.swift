// Which gradients are reduced together, and when. The backward pass finishes the output head and
// final norm first, then the blocks from the last to the first, then the embeddings
// (`BackwardStage`); a bucket is a run of consecutive stages holding at least `bucketBytes` of
// trainable gradients, ready as soon as its last stage is done. The flat buffer is laid out by
// region (2-D weights, then 1-D tensors), not by layer, but each region keeps layer order, so a
// run of stages is at most two contiguous ranges of it (its weights and its gains and biases):
// one collective per range. With a tied output head the token embedding's gradient is final only
// at the very end, so the last bucket cannot overlap the backward pass.

/// Gradients reduced together: contiguous ranges of the flat buffer, final after one stage.
struct GradientBucket {
    /// 0 for the first bucket backward finishes.
    let index: Int
    /// The stage after which every gradient in it is final.
    let readyAfter: BackwardStage
    /// Sorted, disjoint, non-adjacent ranges of the flat gradient buffer.
    let ranges: [Range<Int>]

    /// Floats in the bucket.
    var count: Int { ranges.reduce(0) { $0 + $1.count } }
}

enum GradientBuckets {
    /// The buckets of `model`'s trainable gradients, in the order backward makes them ready.
    static func plan(_ model: GPTModel, bucketBytes: Int) -> [GradientBucket] {
        let entries = model.layout.entries.filter(\.trainable)
        var buckets: [GradientBucket] = []
        var pending: [Range<Int>] = []
        let stages = model.backwardStages
        for (position, stage) in stages.enumerated() {
            pending += entries.filter { model.backwardStage(of: $0) == stage }
                .map { $0.offset..<($0.offset + $0.count) }
            let floats = pending.reduce(0) { $0 + $1.count }
            guard floats * 4 >= bucketBytes || position == stages.count - 1, floats > 0 else { continue }
            buckets.append(GradientBucket(index: buckets.count, readyAfter: stage, ranges: merged(pending)))
            pending = []
        }
        return buckets
    }

    /// The ranges sorted, with touching ones joined.
    static func merged(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, last.upperBound >= range.lowerBound {
                result[result.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}
