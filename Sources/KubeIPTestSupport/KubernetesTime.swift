import KubeIPCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `metav1.Time` and `metav1.MicroTime` as the apiserver decodes and encodes them.
///
/// - `Time` is parsed with Go's `time.RFC3339` layout (`2006-01-02T15:04:05Z07:00`): any
///   fraction of a second is accepted when parsing, a zone (`Z` or `±hh:mm`) is required; it is
///   written in whole seconds, UTC.
/// - `MicroTime` is parsed with `2006-01-02T15:04:05.000000Z07:00`: exactly six fraction
///   digits and a zone, nothing else (Go's `stdFracSecond0` takes exactly that many digits);
///   it is written with six digits, UTC.
public enum KubernetesTime {
    static let timeLayout = "2006-01-02T15:04:05Z07:00"
    static let microLayout = "2006-01-02T15:04:05.000000Z07:00"

    /// A Go `time.ParseError` message.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var value: String
        public var layout: String
        public var valueElement: String
        public var layoutElement: String
        /// Go's other forms: `extra text: "..."`, `month out of range`.
        public var other: String? = nil
        public var description: String {
            if let other { return "parsing time \(goQuote(value)): \(other)" }
            return "parsing time \(goQuote(value)) as \(goQuote(layout)): cannot parse \(goQuote(valueElement)) as \(goQuote(layoutElement))"
        }
    }

    /// Parses a `metav1.Time`.
    public static func parseTime(_ text: String) throws(ParseError) -> Date {
        try parse(text, microseconds: false)
    }

    /// Parses a `metav1.MicroTime`.
    public static func parseMicroTime(_ text: String) throws(ParseError) -> Date {
        try parse(text, microseconds: true)
    }

    /// `2006-01-02T15:04:05Z` in UTC.
    public static func formatTime(_ date: Date) -> String {
        let fields = UTCDateFields(date)
        return "\(fields.year)-\(UTCDateFields.pad(fields.month))-\(UTCDateFields.pad(fields.day))T"
            + "\(UTCDateFields.pad(fields.hour)):\(UTCDateFields.pad(fields.minute)):\(UTCDateFields.pad(fields.second))Z"
    }

    /// `2006-01-02T15:04:05.000000Z` in UTC.
    public static func formatMicroTime(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        let micros = min(999_999, Int(((date.timeIntervalSince1970 - whole) * 1_000_000).rounded()))
        var text = formatTime(Date(timeIntervalSince1970: whole))
        text.removeLast()
        return text + "." + UTCDateFields.pad(micros, 6) + "Z"
    }

    private static func parse(_ text: String, microseconds: Bool) throws(ParseError) -> Date {
        let layout = microseconds ? microLayout : timeLayout
        let bytes = Array(text.utf8)
        var index = 0
        func fail(_ layoutElement: String) -> ParseError {
            ParseError(value: text, layout: layout,
                       valueElement: String(decoding: bytes[min(index, bytes.count)...], as: UTF8.self),
                       layoutElement: layoutElement)
        }
        func number(_ digits: Int, _ element: String) throws(ParseError) -> Int {
            guard index + digits <= bytes.count, bytes[index..<index + digits].allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw fail(element)
            }
            defer { index += digits }
            return Int(String(decoding: bytes[index..<index + digits], as: UTF8.self))!
        }
        func literal(_ character: UInt8, _ element: String) throws(ParseError) {
            guard index < bytes.count, bytes[index] == character else { throw fail(element) }
            index += 1
        }
        let year = try number(4, "2006")
        try literal(UInt8(ascii: "-"), "-")
        let month = try number(2, "01")
        try literal(UInt8(ascii: "-"), "-")
        let day = try number(2, "02")
        try literal(UInt8(ascii: "T"), "T")
        let hour = try number(2, "15")
        try literal(UInt8(ascii: ":"), ":")
        let minute = try number(2, "04")
        try literal(UInt8(ascii: ":"), ":")
        let second = try number(2, "05")
        var fraction = 0.0
        if microseconds {
            // Exactly ".dddddd".
            guard index + 7 <= bytes.count, bytes[index] == UInt8(ascii: "."),
                  bytes[index + 1..<index + 7].allSatisfy({ (0x30...0x39).contains($0) }) else { throw fail(".000000") }
            fraction = Double(String(decoding: bytes[index + 1..<index + 7], as: UTF8.self))! / 1_000_000
            index += 7
        } else if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            let start = index + 1
            var end = start
            while end < bytes.count, (0x30...0x39).contains(bytes[end]) { end += 1 }
            guard end > start else { throw fail("Z07:00") }
            fraction = Double("0." + String(decoding: bytes[start..<end], as: UTF8.self)) ?? 0
            index = end
        }
        var offsetSeconds = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "Z") {
            index += 1
        } else {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else {
                throw fail("Z07:00")
            }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            let zoneStart = index
            index += 1
            guard let hours = try? number(2, "Z07:00"), (try? literal(UInt8(ascii: ":"), "Z07:00")) != nil,
                  let minutes = try? number(2, "Z07:00") else {
                index = zoneStart
                throw fail("Z07:00")
            }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        }
        guard index == bytes.count else {
            throw ParseError(value: text, layout: layout, valueElement: "", layoutElement: "",
                             other: "extra text: \(goQuote(String(decoding: bytes[index...], as: UTF8.self)))")
        }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else {
            throw ParseError(value: text, layout: layout, valueElement: "", layoutElement: "",
                             other: (1...12).contains(month) ? "day out of range" : "month out of range")
        }
        let base = UTCDateFields(year: year, month: month, day: day, hour: hour, minute: minute, second: second).date
        return base.addingTimeInterval(fraction - Double(offsetSeconds))
    }
}
