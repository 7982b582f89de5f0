// An option bound to one field of a settings struct: gpt train's flags set TrainingSettings fields,
// gpt generate's set SamplingSettings fields, and the `:name value` commands of the interactive
// prompt loop set the same fields through the same declarations (their value types, ranges and
// messages included).

struct SettingOption<Settings> {
    let option: any AnyOption
    /// Stores the command line's value into `settings`, when it gave one.
    let applyGiven: (inout Settings) -> Void
    /// Parses `text` as the option's value type and stores the value into `settings`.
    let set: (inout Settings, String) throws(InvalidValue) -> Void

    var name: String { option.name }

    init<Value>(_ option: Option<Value>, _ field: WritableKeyPath<Settings, Value>) {
        self.option = option
        applyGiven = { settings in
            if let value = option.given { settings[keyPath: field] = value }
        }
        set = { settings, text throws(InvalidValue) in settings[keyPath: field] = try option.type.parse(text) }
    }

    /// For a field that is optional in the settings (nil: the settings' own fallback).
    init<Value>(_ option: Option<Value>, _ field: WritableKeyPath<Settings, Value?>) {
        self.option = option
        applyGiven = { settings in
            if let value = option.given { settings[keyPath: field] = value }
        }
        set = { settings, text throws(InvalidValue) in settings[keyPath: field] = try option.type.parse(text) }
    }
}

extension Array {
    /// The options of these settings, for an OptionGroup's `all`.
    func options<Settings>() -> [any AnyOption] where Element == SettingOption<Settings> { map(\.option) }

    /// `settings` with every value the command line gave.
    func applied<Settings>(to settings: Settings) -> Settings where Element == SettingOption<Settings> {
        var result = settings
        for setting in self { setting.applyGiven(&result) }
        return result
    }
}
