#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore

/// UTC calendar arithmetic without a Calendar (FoundationEssentials has no ICU-backed one):
/// SigV4 timestamps and the ISO 8601 expirations that credential endpoints return.
enum UTCTime {
    typealias Fields = UTCDateFields

    static func fields(of date: Date) -> Fields { UTCDateFields(date) }

    static func date(from f: Fields) -> Date { f.date }

    private static let pad = UTCDateFields.pad

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
