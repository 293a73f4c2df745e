#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// UTC calendar arithmetic without a Calendar (FoundationEssentials has no ICU-backed one):
/// SigV4 timestamps and the ISO 8601 expirations that credential endpoints return.
enum UTCTime {
    struct Fields: Equatable {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    }

    static func fields(of date: Date) -> Fields {
        let total = Int(date.timeIntervalSince1970.rounded(.down))
        let days = Int((Double(total) / 86_400).rounded(.down))
        let secondsOfDay = total - days * 86_400
        // Civil date from days since 1970-01-01 (proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return Fields(year: year, month: month, day: day, hour: secondsOfDay / 3_600,
                      minute: secondsOfDay % 3_600 / 60, second: secondsOfDay % 60)
    }

    static func date(from f: Fields) -> Date {
        let y = f.month <= 2 ? f.year - 1 : f.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = f.month > 2 ? f.month - 3 : f.month + 9
        let doy = (153 * mp + 2) / 5 + f.day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + f.hour * 3_600 + f.minute * 60 + f.second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// `20150830T123600Z`
    static func amzDate(_ date: Date) -> String {
        let f = fields(of: date)
        return pad(f.year, 4) + pad(f.month, 2) + pad(f.day, 2) + "T" + pad(f.hour, 2) + pad(f.minute, 2)
            + pad(f.second, 2) + "Z"
    }

    /// `2015-08-30T12:36:00Z`
    static func iso8601(_ date: Date) -> String {
        let f = fields(of: date)
        return "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; nil when malformed.
    static func parseISO8601(_ text: String) -> Date? {
        let chars = Array(text.trimmedWhitespace.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= chars.count else { return nil }
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
            var scale = 0.1
            while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
                fraction += Double(chars[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offset = 0
        if index == chars.count {
            offset = 0 // no zone: treat as UTC
        } else if chars[index] == UInt8(ascii: "Z") || chars[index] == UInt8(ascii: "z") {
            guard index + 1 == chars.count else { return nil }
        } else if chars[index] == UInt8(ascii: "+") || chars[index] == UInt8(ascii: "-") {
            let sign = chars[index] == UInt8(ascii: "+") ? 1 : -1
            guard let oh = number(index + 1, 2) else { return nil }
            var om = 0
            if index + 3 < chars.count {
                let minuteStart = chars[index + 3] == UInt8(ascii: ":") ? index + 4 : index + 3
                guard let value = number(minuteStart, 2), minuteStart + 2 == chars.count else { return nil }
                om = value
            } else if index + 3 != chars.count {
                return nil
            }
            offset = sign * (oh * 3_600 + om * 60)
        } else {
            return nil
        }
        let base = date(from: Fields(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
        return base.addingTimeInterval(fraction - TimeInterval(offset))
    }
}
