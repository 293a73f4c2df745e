#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore

/// Compute Engine's timestamps: RFC 3339 with milliseconds and a US Pacific offset
/// (`2027-01-15T00:00:00.000-08:00`), never `Z`, so clients that assume UTC notation break
/// here as they would against the real API. The double always uses -08:00.
enum GCETimestamp {
    static func format(_ date: Date) -> String {
        let f = UTCDateFields(date.addingTimeInterval(-8 * 3600))
        let pad = UTCDateFields.pad
        return "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):"
            + "\(pad(f.minute, 2)):\(pad(f.second, 2)).\(pad(f.millisecond, 3))-08:00"
    }
}
