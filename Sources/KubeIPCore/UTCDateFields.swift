#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A point in time as UTC calendar fields, computed without a `Calendar` (FoundationEssentials
/// has none backed by ICU): for SigV4 dates, RFC 3339 log timestamps and ISO 8601 expirations.
public struct UTCDateFields: Sendable, Equatable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    /// Milliseconds within the second.
    public var millisecond: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
    }

    /// The UTC fields of `date` (proleptic Gregorian; Howard Hinnant's days-to-civil).
    public init(_ date: Date) {
        let totalMillis = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let days = Self.floorDiv(totalMillis, 86_400_000)
        let msOfDay = totalMillis - days * 86_400_000
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day,
                  hour: msOfDay / 3_600_000, minute: msOfDay / 60_000 % 60, second: msOfDay / 1000 % 60,
                  millisecond: msOfDay % 1000)
    }

    /// The instant these fields name (days-from-civil, the inverse of ``init(_:)``).
    public var date: Date {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(millisecond) / 1000)
    }

    /// `value` left-padded with zeros to `width` digits.
    public static func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
}

/// RFC 3339 timestamps on top of ``UTCDateFields``: Kubernetes `Time` (whole seconds) and
/// `MicroTime` (six fraction digits), AWS and GCP expirations.
public enum RFC3339 {
    /// `date` in UTC with exactly `fractionDigits` (0…9) digits after the seconds, rounded to
    /// the nearest unit: `2026-12-04T18:48:47Z`, `2026-12-04T18:48:47.123456Z`.
    public static func format(_ date: Date, fractionDigits: Int = 0) -> String {
        let digits = min(max(fractionDigits, 0), 9)
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        // Whole units since the epoch, so rounding carries into the seconds (…59.9999996 → next second).
        let units = (date.timeIntervalSince1970 * Double(scale)).rounded()
        let clamped = max(min(units, 9.2e18), -9.2e18)
        let total = Int64(clamped)
        var seconds = total / Int64(scale)
        var fraction = total % Int64(scale)
        if fraction < 0 {
            fraction += Int64(scale)
            seconds -= 1
        }
        let f = UTCDateFields(Date(timeIntervalSince1970: TimeInterval(seconds)))
        let pad = UTCDateFields.pad
        var text = "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
        if digits > 0 { text += "." + pad(Int(fraction), digits) }
        return text + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f…](Z|±HH:MM)` with up to nine fraction digits; also the
    /// lenient forms some endpoints write (`t` or a space for `T`, `z`, `±HHMM`, `±HH`, no
    /// zone meaning UTC). Nil when malformed.
    public static func parse(_ text: String) -> Date? {
        let chars = Array(text.trimmedWhitespace.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start >= 0, start + count <= chars.count else { return nil }
            var value = 0
            for c in chars[start..<start + count] {
                guard c >= 48 && c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard chars.count >= 19, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
              chars[10] == UInt8(ascii: "T") || chars[10] == UInt8(ascii: "t") || chars[10] == UInt8(ascii: " "),
              chars[13] == UInt8(ascii: ":"), chars[16] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < chars.count, chars[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            var scale = 0.1
            while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
                fraction += Double(chars[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard (1...9).contains(index - start) else { return nil }
        }
        var offset = 0
        if index == chars.count {
            offset = 0 // no zone: UTC
        } else if chars[index] == UInt8(ascii: "Z") || chars[index] == UInt8(ascii: "z") {
            guard index + 1 == chars.count else { return nil }
        } else if chars[index] == UInt8(ascii: "+") || chars[index] == UInt8(ascii: "-") {
            let sign = chars[index] == UInt8(ascii: "+") ? 1 : -1
            guard let oh = number(index + 1, 2), oh < 24 else { return nil }
            var om = 0
            if index + 3 < chars.count {
                let minuteStart = chars[index + 3] == UInt8(ascii: ":") ? index + 4 : index + 3
                guard let value = number(minuteStart, 2), value < 60, minuteStart + 2 == chars.count else { return nil }
                om = value
            } else if index + 3 != chars.count {
                return nil
            }
            offset = sign * (oh * 3_600 + om * 60)
        } else {
            return nil
        }
        let base = UTCDateFields(year: year, month: month, day: day, hour: hour, minute: minute, second: second).date
        return base.addingTimeInterval(fraction - TimeInterval(offset))
    }
}
