import Foundation
import KubeIPCore
import Testing

@Suite struct UTCDateFieldsTests {
    private let instant = Date(timeIntervalSince1970: 1_796_410_127.123456)   // 2026-12-04T18:48:47.123456Z

    @Test func formatsWithTheRequestedFractionDigits() {
        #expect(RFC3339.format(instant) == "2026-12-04T18:48:47Z")
        #expect(RFC3339.format(instant, fractionDigits: 3) == "2026-12-04T18:48:47.123Z")
        #expect(RFC3339.format(instant, fractionDigits: 6) == "2026-12-04T18:48:47.123456Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0), fractionDigits: 6) == "1970-01-01T00:00:00.000000Z")
        // Rounding carries into the seconds, minutes and the day.
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_796_428_799.9999996), fractionDigits: 6)
                == "2026-12-05T00:00:00.000000Z")
        // Before the epoch.
        #expect(RFC3339.format(Date(timeIntervalSince1970: -0.5), fractionDigits: 1) == "1969-12-31T23:59:59.5Z")
    }

    @Test(arguments: [
        ("2026-12-04T18:48:47Z", 1_796_410_127.0),
        ("2026-12-04T18:48:47.123456Z", 1_796_410_127.123456),
        ("2026-12-04T18:48:47.1Z", 1_796_410_127.1),
        ("2026-12-04T18:48:47.123456789Z", 1_796_410_127.123456789),
        ("2026-12-04T20:48:47.5+02:00", 1_796_410_127.5),
        ("2026-12-04T13:18:47-05:30", 1_796_410_127.0),
        ("2026-12-04t18:48:47z", 1_796_410_127.0),
        ("2026-12-04 18:48:47", 1_796_410_127.0),
    ])
    func parsesRFC3339(text: String, expected: Double) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(abs(date.timeIntervalSince1970 - expected) < 1e-6)
    }

    @Test(arguments: ["", "yesterday", "2026-12-04", "2026-13-04T18:48:47Z", "2026-12-04T18:48:47.Z",
                      "2026-12-04T18:48:47.1234567890Z", "2026-12-04T18:48:47+2", "2026-12-04T18:48:47Zjunk",
                      "2026-12-04T25:48:47Z", "2026-12-04T18:48:47+02:75"])
    func refusesMalformedTimestamps(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func microsecondsRoundTrip() throws {
        for text in ["2026-12-04T18:48:47.123456Z", "2026-12-04T18:48:47.000001Z", "2026-12-04T18:48:47.999999Z",
                     "2099-02-28T23:59:59.999999Z", "2000-02-29T00:00:00.500000Z"] {
            let date = try #require(RFC3339.parse(text))
            #expect(RFC3339.format(date, fractionDigits: 6) == text)
        }
    }
}
