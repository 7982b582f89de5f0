// Plain-text tables and numbers as bench, profile and kernel bench print them.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A rate with about three significant digits: 1234.5 -> "1234", 12.34 -> "12.3", 0.01234 -> "0.0123".
func significant(_ value: Double) -> String {
    guard value.isFinite, value != 0 else { return Format.fixed(value, 1) }
    let magnitude = abs(value)
    let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : min(6, 2 - Int(log10(magnitude).rounded(.down)))
    return Format.fixed(value, decimals)
}

/// Rows of cells as aligned plain text: two spaces between columns, numbers right-aligned,
/// `leftColumns` left-aligned.
func renderTable(_ rows: [[String]], leftColumns: Set<Int> = [0]) -> String {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { column, cell in
            let padding = String(repeating: " ", count: widths[column] - cell.count)
            return leftColumns.contains(column) ? cell + padding : padding + cell
        }.joined(separator: "  ").trimmingTrailingSpaces()
    }.joined(separator: "\n")
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
