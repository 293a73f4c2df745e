#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore

/// `metav1.MicroTime`: RFC 3339 with exactly six fraction digits in UTC on output
/// (`2026-12-04T18:48:47.123456Z`); any RFC 3339 form (0–9 fraction digits, any offset) on input.
/// Lease renew and acquire times, event times.
public typealias MicroTime = KubeTimestamp<Microseconds>

/// `metav1.Time`: RFC 3339 to the second in UTC on output (`2026-12-04T18:48:47Z`); any RFC
/// 3339 form on input. Deletion timestamps, taint times.
public typealias KubeTime = KubeTimestamp<WholeSeconds>

/// How many fraction digits a timestamp kind writes.
public protocol TimestampPrecision: Sendable {
    static var fractionDigits: Int { get }
}

/// Six fraction digits (`MicroTime`).
public enum Microseconds: TimestampPrecision {
    public static let fractionDigits = 6
}

/// No fraction (`Time`).
public enum WholeSeconds: TimestampPrecision {
    public static let fractionDigits = 0
}

/// A Kubernetes timestamp: a string on the wire, written in UTC with `Precision`'s digits.
public struct KubeTimestamp<Precision: TimestampPrecision>: Codable, Sendable, Hashable, Comparable,
                                                            CustomStringConvertible {
    /// The instant (kept to the written precision on output).
    public var date: Date

    public init(_ date: Date) { self.date = date }

    /// Parses any RFC 3339 timestamp; nil when malformed.
    public init?(_ text: String) {
        guard let date = RFC3339.parse(text) else { return nil }
        self.date = date
    }

    /// The wire form.
    public var description: String { RFC3339.format(date, fractionDigits: Precision.fractionDigits) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = RFC3339.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 timestamp")
        }
        self.date = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (a: KubeTimestamp, b: KubeTimestamp) -> Bool { a.date < b.date }
}
