// The value types options are declared with: integers and numbers with their ranges, seeds, text
// (plain or with the shell-friendly escapes), byte counts, lists of file names, and one generic
// choice among fixed names. Each turns bad text into a phrase such as "expects an integer, got
// 'x'", which the parser puts after the option's name.

import GPT

extension ValueType where Value == Int {
    /// An integer in minimum...maximum; by default at most `CheckedSize.countLimit`, so that no
    /// count from the command line can overflow the sizes computed from it.
    static func integer(atLeast minimum: Int, atMost maximum: Int = CheckedSize.countLimit,
                        placeholder: String = "N") -> ValueType {
        ValueType(placeholder: placeholder) { text throws(InvalidValue) in
            guard let value = Int(text) else {
                // Digits beyond Int's range are still a number: say which bound it passes.
                let digits = text.drop { $0 == "-" || $0 == "+" }
                if !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
                    throw InvalidValue(text.hasPrefix("-") ? "must be at least \(minimum), got \(text)"
                                       : "must be at most \(maximum), got \(text)")
                }
                throw InvalidValue("expects an integer, got '\(text)'")
            }
            guard value >= minimum else { throw InvalidValue("must be at least \(minimum), got \(value)") }
            guard value <= maximum else { throw InvalidValue("must be at most \(maximum), got \(value)") }
            return value
        }
    }

    /// "123", "64K", "512M", "8G" (powers of 1024) as bytes.
    static let byteCount = ValueType(placeholder: "BYTES") { text throws(InvalidValue) in
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text), scale = 1
        if let last = text.last?.uppercased().first, let unit = units[last] {
            digits = text.dropLast()
            scale = unit
        }
        guard let value = decimalNumber(String(digits)), value * Double(scale) >= 1, value * Double(scale) < 9e18 else {
            throw InvalidValue("expects a byte count such as 512M or 8G, got '\(text)'")
        }
        return Int(value * Double(scale))
    }
}

/// `text` as a decimal number (digits, an optional fraction and exponent: "3", "-0.5", "1e-3"):
/// Swift's own parser also takes hexadecimal ("0x1p3"), "inf" and "nan", which no flag means.
func decimalNumber(_ text: String) -> Double? {
    var rest = Substring(text)
    if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
    let mantissa = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
    guard mantissa.contains(where: \.isNumber), mantissa.filter({ $0 == "." }).count <= 1 else { return nil }
    rest = rest.dropFirst(mantissa.count)
    if let e = rest.first, e == "e" || e == "E" {
        rest = rest.dropFirst()
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        guard !rest.isEmpty, rest.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        rest = ""
    }
    guard rest.isEmpty, let value = Double(text), value.isFinite else { return nil }
    return value
}

/// A bound as a range message prints it: the shortest decimal that reads back as it ("0", "0.9",
/// "1e-08"), never Swift's "0.0".
func boundText(_ value: some BinaryFloatingPoint & CustomStringConvertible) -> String {
    let text = value.description
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}

extension ValueType where Value == Float {
    /// A finite decimal number in [minimum, limit).
    static func number(atLeast minimum: Float, below limit: Float? = nil, placeholder: String = "X") -> ValueType {
        ValueType(placeholder: placeholder) { text throws(InvalidValue) in
            guard let number = decimalNumber(text), Float(number).isFinite else {
                throw InvalidValue("expects a number, got '\(text)'")
            }
            let value = Float(number)
            guard value >= minimum else { throw InvalidValue("must be at least \(boundText(minimum)), got \(text)") }
            if let limit, value >= limit { throw InvalidValue("must be below \(boundText(limit)), got \(text)") }
            return value
        }
    }
}

extension ValueType where Value == Double {
    /// A number strictly between 0 and 1, kept in double precision.
    static let fraction = ValueType(placeholder: "F") { text throws(InvalidValue) in
        guard let value = decimalNumber(text) else { throw InvalidValue("expects a number, got '\(text)'") }
        guard value > 0 else { throw InvalidValue("must be above 0, got \(text)") }
        guard value < 1 else { throw InvalidValue("must be below 1, got \(text)") }
        return value
    }
}

extension ValueType where Value == UInt64 {
    static let seed = ValueType(placeholder: "S") { text throws(InvalidValue) in
        guard let value = UInt64(text) else { throw InvalidValue("expects a non-negative integer, got '\(text)'") }
        return value
    }
}

extension ValueType where Value == String {
    /// Any text.
    static func text(_ placeholder: String) -> ValueType {
        ValueType(placeholder: placeholder) { text in text }
    }

    /// A file or directory name: any text but the empty one (which names nothing, and used to
    /// surface as a raw file-system error).
    static func path(_ placeholder: String) -> ValueType {
        ValueType(placeholder: placeholder) { text throws(InvalidValue) in
            guard !text.isEmpty else { throw InvalidValue("expects a path, got an empty one") }
            return text
        }
    }

    /// Text with the escapes \n, \t and \\ turned into the characters they name (and printed back
    /// with them, so help shows "\n" rather than a line break).
    static func escapedText(_ placeholder: String) -> ValueType {
        ValueType(placeholder: placeholder, parse: { text in unescape(text) }, describe: { escape($0) })
    }
}

extension ValueType where Value == [String] {
    /// File names, also comma-separated within one value; an empty one is an error.
    static let files = ValueType(placeholder: "FILE...") { text throws(InvalidValue) in
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !names.contains(where: \.isEmpty) else { throw InvalidValue("has an empty file name") }
        return names
    }
}

/// One of a fixed set of names, each standing for a value: `--by op|shape`, `--cases
/// standard|extended`. Help lists the names as the placeholder; a wrong name's error lists them.
enum Choice {
    static func of<Value: Sendable>(_ choices: [(name: String, value: Value)]) -> ValueType<Value> {
        let names = choices.map(\.name)
        let listed = names.count == 2 ? "\(names[0]) or \(names[1])" : "one of " + names.joined(separator: ", ")
        return ValueType(placeholder: names.joined(separator: "|"), parse: { text throws(InvalidValue) in
            guard let match = choices.first(where: { $0.name == text }) else {
                throw InvalidValue("expects \(listed), got '\(text)'")
            }
            return match.value
        }, describe: { value in
            choices.first { "\($0.value)" == "\(value)" }?.name ?? "\(value)"
        })
    }

    /// The cases of an enum, by their raw values.
    static func cases<Value: CaseIterable & RawRepresentable & Sendable>(of type: Value.Type) -> ValueType<Value>
    where Value.RawValue == String {
        of(Value.allCases.map { ($0.rawValue, $0) })
    }

    /// Names that stand for themselves.
    static func names(_ names: [String]) -> ValueType<String> {
        of(names.map { ($0, $0) })
    }
}

/// `text` with backslashes, line breaks and tabs written as the escapes `unescape` reads.
func escape(_ text: String) -> String {
    text.replacing("\\", with: "\\\\").replacing("\n", with: "\\n").replacing("\t", with: "\\t")
}
