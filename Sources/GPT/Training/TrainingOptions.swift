// The spellings from before the training settings were one struct: `TrainingOptions` (whose step
// count was `steps`) and `Trainer(model:options:)`. Only Sources/Conformance's ModelCase still uses
// them; it belongs to another branch, so these stay until it says `TrainingSettings`, `maxSteps`
// and `Trainer(model:settings:)`, and then this file goes.

/// The former name of `TrainingSettings`.
public typealias TrainingOptions = TrainingSettings

extension TrainingSettings {
    /// The former name of `maxSteps`.
    public var steps: Int {
        get { maxSteps }
        set { maxSteps = newValue }
    }
}

extension Trainer {
    /// The former spelling of `init(model:settings:)`.
    public convenience init(model: GPTModel, options: TrainingSettings) throws {
        try self.init(model: model, settings: options)
    }
}
