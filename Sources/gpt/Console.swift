// Terminal output: stdout/stderr writes that flush (generation streams token by token), whether
// stdout is a terminal (progress redrawn in place with \r) and number/duration formatting.
//
// C's stdout and stderr are mutable globals that predate Swift concurrency, so Swift 6 refuses
// them unless their module is imported @preconcurrency; this file is the only one that touches them.

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

enum Console {
    /// Makes stdout line-buffered even into a file or pipe, so progress and loss lines reach a log
    /// as they are printed.
    static func lineBufferStandardOutput() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }

    /// Writes to stdout and flushes, so streamed text appears as it is produced.
    static func write(_ text: String) {
        fputs(text, stdout)
        fflush(stdout)
    }

    /// From now on stdout goes nowhere (a data-parallel rank other than 0: only rank 0 prints).
    static func discardStandardOutput() {
        fflush(stdout)
        let null = open("/dev/null", O_WRONLY)
        guard null >= 0 else { return }
        dup2(null, STDOUT_FILENO)
        close(null)
    }

    /// One line to stderr.
    static func error(_ line: String) {
        fputs(line + "\n", stderr)
    }

    /// Whether progress may be redrawn in place. Open MPI's mpirun hands its ranks a pseudo-terminal
    /// even when its own output goes to a file, so a rank it started prints plain lines.
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 && getenv("OMPI_COMM_WORLD_SIZE") == nil }

    /// Redraws the current terminal line (carriage return, text, clear to end of line).
    static func redraw(_ line: String) {
        write("\r" + line + "\u{1B}[K")
    }

    /// Clears a line drawn by `redraw`, before a normal line is printed.
    static func clearLine() {
        write("\r\u{1B}[K")
    }
}

enum Format {
    /// 12345678 -> "12,345,678".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// A fixed number of decimals (no Foundation formatters in the binary).
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        let whole = Int(rounded / scale), fraction = Int(rounded.truncatingRemainder(dividingBy: scale))
        let sign = value < 0 && rounded != 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(whole) }
        let fractionText = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - fractionText.count) + fractionText
    }

    /// 0.00123 -> "1.23e-03".
    static func scientific(_ value: Double) -> String {
        guard value != 0, value.isFinite else { return value == 0 ? "0" : "\(value)" }
        var exponent = Int(log10(abs(value)).rounded(.down))
        var mantissa = value / pow(10, Double(exponent))
        if abs(mantissa) >= 9.995 { mantissa /= 10; exponent += 1 }
        let sign = exponent < 0 ? "-" : "+"
        return fixed(mantissa, 2) + "e" + sign + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
    }

    /// Tokens per second as a grouped integer, safe for a zero or tiny duration.
    static func rate(_ tokens: Double, _ seconds: Double) -> String {
        grouped(Int(min(tokens / max(seconds, 1e-9), 1e15)))
    }

    /// Seconds -> "42s", "3m07s", "1h02m".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let total = Int(seconds.rounded())
        if total < 60 { return seconds < 10 ? fixed(seconds, 1) + "s" : "\(total)s" }
        let pad = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        if total < 3600 { return "\(total / 60)m\(pad(total % 60))s" }
        return "\(total / 3600)h\(pad(total / 60 % 60))m"
    }
}

/// Wall-clock seconds since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let parts = (ContinuousClock.now - start).components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
}
