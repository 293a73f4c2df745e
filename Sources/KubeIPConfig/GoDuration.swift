/// Go's duration syntax (`time.ParseDuration` / `Duration.String`), the form kubeip v2 used
/// for RETRY_INTERVAL and the form this daemon keeps for every interval setting.
///
/// A duration is an optional sign followed by one or more decimal numbers, each with a unit:
/// `300ms`, `1.5h`, `2h45m`, `5m0s`. Units are `ns`, `us` (or `µs`/`μs`), `ms`, `s`, `m`, `h`.
/// The bare number `0` is the only value allowed without a unit. Values are whole nanoseconds
/// and must fit in a signed 64-bit count, as in Go.
public enum GoDuration {
    /// Why a text is not a Go duration.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The text is empty.
        case empty
        /// A number has no unit after it (e.g. `3`).
        case missingUnit(String)
        /// A unit is not one of ns, us, µs, ms, s, m, h.
        case unknownUnit(String)
        /// Something other than a number was found where one was expected.
        case malformed(String)
        /// The value does not fit in 64 bits of nanoseconds (about 292 years).
        case overflow(String)

        public var description: String {
            switch self {
            case .empty: "the duration is empty"
            case .missingUnit(let text): "'\(text)' has a number without a unit"
            case .unknownUnit(let unit): "'\(unit)' is not a unit (use ns, us, ms, s, m or h)"
            case .malformed(let text): "'\(text)' is not a duration"
            case .overflow(let text): "'\(text)' is too long a duration"
            }
        }
    }

    /// Nanoseconds per unit, longest spellings first so that `ms` is not read as `m`.
    private static let units: [(name: String, nanoseconds: UInt64)] = [
        ("ns", 1), ("us", 1_000), ("\u{00B5}s", 1_000), ("\u{03BC}s", 1_000),
        ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Parses Go duration syntax. Negative values are returned as negative durations; callers
    /// that need a positive interval check the sign themselves.
    public static func parse(_ text: String) throws(ParseError) -> Duration {
        .nanoseconds(try parseNanoseconds(text))
    }

    /// Parses Go duration syntax into a signed count of nanoseconds.
    public static func parseNanoseconds(_ text: String) throws(ParseError) -> Int64 {
        var rest = Substring(text)
        guard !rest.isEmpty else { throw .empty }
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { throw .malformed(text) }

        let limit: UInt64 = 1 << 63   // |Int64.min|; the positive bound is checked at the end
        var total: UInt64 = 0
        while !rest.isEmpty {
            // Integer part.
            let integerDigits = rest.prefix(while: isDigit)
            rest = rest.dropFirst(integerDigits.count)
            guard let whole = accumulate(integerDigits, limit: limit) else { throw .overflow(text) }

            // Optional fraction, kept as digits and a decimal scale; digits beyond 64-bit
            // precision are dropped, the way Go does it.
            var fraction: UInt64 = 0
            var scale: Double = 1
            var fractionDigits = Substring()
            if rest.first == "." {
                rest = rest.dropFirst()
                fractionDigits = rest.prefix(while: isDigit)
                rest = rest.dropFirst(fractionDigits.count)
                var saturated = false
                for digit in fractionDigits where !saturated {
                    let (times10, o1) = fraction.multipliedReportingOverflow(by: 10)
                    let (next, o2) = times10.addingReportingOverflow(UInt64(digit.asciiValue! - 48))
                    if o1 || o2 || next > UInt64(Int64.max) { saturated = true; continue }
                    fraction = next
                    scale *= 10
                }
            }
            guard !integerDigits.isEmpty || !fractionDigits.isEmpty else { throw .malformed(text) }

            // Unit.
            let unitText = rest.prefix { !isDigit($0) && $0 != "." }
            guard !unitText.isEmpty else { throw .missingUnit(text) }
            guard let unit = units.first(where: { $0.name == unitText }) else {
                throw .unknownUnit(String(unitText))
            }
            rest = rest.dropFirst(unitText.count)

            guard whole <= limit / unit.nanoseconds else { throw .overflow(text) }
            var value = whole * unit.nanoseconds
            if fraction > 0 {
                let extra = Double(fraction) * (Double(unit.nanoseconds) / scale)
                guard extra < Double(limit) else { throw .overflow(text) }
                let (sum, o) = value.addingReportingOverflow(UInt64(extra))
                guard !o, sum <= limit else { throw .overflow(text) }
                value = sum
            }
            let (sum, o) = total.addingReportingOverflow(value)
            guard !o, sum <= limit else { throw .overflow(text) }
            total = sum
        }
        if negative { return total == limit ? Int64.min : -Int64(total) }
        guard total <= UInt64(Int64.max) else { throw .overflow(text) }
        return Int64(total)
    }

    /// Formats a duration the way Go's `Duration.String` does: `0s`, `1.5s`, `1m0s`, `2h45m0s`,
    /// `300ms`, `1.5µs`, `-5s`. Sub-nanosecond parts are dropped.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let negative = seconds < 0 || attoseconds < 0
        let wholeSeconds = seconds.magnitude
        let nanos = (attoseconds / 1_000_000_000).magnitude   // 0 ..< 1e9
        var text: String
        if wholeSeconds == 0 {
            switch nanos {
            case 0: return "0s"
            case ..<1_000: text = "\(nanos)ns"
            case ..<1_000_000: text = decimal(nanos, places: 3) + "\u{00B5}s"
            default: text = decimal(nanos, places: 6) + "ms"
            }
        } else {
            let secondsPart = decimal(wholeSeconds % 60 * 1_000_000_000 + nanos, places: 9) + "s"
            let minutes = wholeSeconds / 60
            if minutes == 0 {
                text = secondsPart
            } else if minutes < 60 {
                text = "\(minutes)m" + secondsPart
            } else {
                text = "\(minutes / 60)h\(minutes % 60)m" + secondsPart
            }
        }
        return negative ? "-" + text : text
    }

    /// `value / 10^places` with trailing zeros (and a bare point) removed.
    private static func decimal(_ value: UInt64, places: Int) -> String {
        var divisor: UInt64 = 1
        for _ in 0..<places { divisor *= 10 }
        let whole = value / divisor
        var fraction = String(value % divisor)
        guard fraction != "0" else { return String(whole) }
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    private static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }

    /// The value of a run of ASCII digits, or nil past `limit`.
    private static func accumulate(_ digits: Substring, limit: UInt64) -> UInt64? {
        var value: UInt64 = 0
        for digit in digits {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(UInt64(digit.asciiValue! - 48))
            if o1 || o2 || next > limit { return nil }
            value = next
        }
        return value
    }
}
