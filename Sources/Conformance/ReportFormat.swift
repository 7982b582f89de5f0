// Number and column formatting for result lines, tables and CSV (the library avoids Foundation's
// String(format:)). Named apart from the CLI's own `Format` so the gpt target can import both.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Number and column formatting for result lines, tables and CSV, without Foundation.
public enum ReportFormat {
    /// `x` as d.dde±XX (e.g. 1.25e-07), or "0", "inf", "nan".
    public static func scientific(_ x: Double, digits: Int = 2) -> String {
        if x == 0 { return "0" }
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        var exponent = Int(log10(abs(x)).rounded(.down))
        var mantissa = x / pow(10, Double(exponent))
        let factor = pow(10, Double(digits))
        mantissa = (mantissa * factor).rounded() / factor
        if abs(mantissa) >= 10 { mantissa /= 10; exponent += 1 }
        let magnitude = abs(exponent)
        return "\(fixed(mantissa, digits: digits))e\(exponent < 0 ? "-" : "+")\(magnitude < 10 ? "0" : "")\(magnitude)"
    }

    /// `x` with exactly `digits` digits after the point.
    public static func fixed(_ x: Double, digits: Int) -> String {
        let factor = pow(10, Double(digits))
        let scaled = Int64((abs(x) * factor).rounded())
        let whole = scaled / Int64(factor), fraction = scaled % Int64(factor)
        var fractionText = String(fraction)
        while fractionText.count < digits { fractionText = "0" + fractionText }
        return (x < 0 && scaled != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + fractionText : "")
    }

    /// `text` padded with spaces to `width` (left-aligned; `right` aligns right).
    public static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}
