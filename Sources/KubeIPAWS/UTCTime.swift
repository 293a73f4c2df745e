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
    static func iso8601(_ date: Date) -> String { RFC3339.format(date) }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; nil when malformed.
    static func parseISO8601(_ text: String) -> Date? { RFC3339.parse(text) }
}
