#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore

/// `metav1.MicroTime`: RFC 3339 with exactly six fraction digits in UTC on output
/// (`2026-12-04T18:48:47.123456Z`); any RFC 3339 form (0–9 fraction digits, any offset) on input.
/// Lease renew and acquire times, event times.
public struct MicroTime: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The instant (kept to the microsecond on output).
    public var date: Date

    public init(_ date: Date) { self.date = date }

    /// Parses any RFC 3339 timestamp; nil when malformed.
    public init?(_ text: String) {
        guard let date = RFC3339.parse(text) else { return nil }
        self.date = date
    }

    /// The wire form.
    public var description: String { RFC3339.format(date, fractionDigits: 6) }

    public init(from decoder: any Decoder) throws {
        self.date = try KubeTimeCoding.decode(decoder, what: "MicroTime")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (a: MicroTime, b: MicroTime) -> Bool { a.date < b.date }
}

/// `metav1.Time`: RFC 3339 to the second in UTC on output (`2026-12-04T18:48:47Z`); any RFC
/// 3339 form on input. Deletion timestamps, taint times.
public struct KubeTime: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The instant (whole seconds on output).
    public var date: Date

    public init(_ date: Date) { self.date = date }

    /// Parses any RFC 3339 timestamp; nil when malformed.
    public init?(_ text: String) {
        guard let date = RFC3339.parse(text) else { return nil }
        self.date = date
    }

    /// The wire form.
    public var description: String { RFC3339.format(date) }

    public init(from decoder: any Decoder) throws {
        self.date = try KubeTimeCoding.decode(decoder, what: "Time")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (a: KubeTime, b: KubeTime) -> Bool { a.date < b.date }
}

private enum KubeTimeCoding {
    static func decode(_ decoder: any Decoder, what: String) throws -> Date {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = RFC3339.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 \(what)")
        }
        return date
    }
}
