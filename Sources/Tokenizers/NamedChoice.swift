// Decoding an enum of named choices from a config or metadata file with a message that lists the
// choices: "expects uint16 or uint32, got 'float32'", where Swift's own says "Cannot initialize
// TokenDType from invalid String value float32". Each such enum calls this from its init(from:).

/// Names `choices` the way every message does: "a or b", "a, b, c".
public func listedChoices(_ choices: [String]) -> String {
    choices.count == 2 ? "\(choices[0]) or \(choices[1])" : choices.joined(separator: ", ")
}

extension RawRepresentable where Self: CaseIterable, RawValue == String {
    /// The case whose raw value the decoder holds; any other string is a `dataCorrupted` error
    /// listing the cases.
    public static func decodeChoice(from decoder: any Decoder) throws -> Self {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expects \(listedChoices(allCases.map(\.rawValue))), got '\(text)'")
        }
        return value
    }
}
