import Foundation
import Testing
@testable import KubeIPKube

@Suite struct KubeTimeTests {
    @Test(arguments: [
        ("2026-12-04T18:48:47.123456Z", "2026-12-04T18:48:47.123456Z"),
        ("2026-12-04T18:48:47Z", "2026-12-04T18:48:47.000000Z"),
        ("2026-12-04T18:48:47.1Z", "2026-12-04T18:48:47.100000Z"),
        ("2026-12-04T18:48:47.123456789Z", "2026-12-04T18:48:47.123457Z"),
        ("2026-12-04T20:48:47.5+02:00", "2026-12-04T18:48:47.500000Z"),
        ("2026-12-04T13:18:47.000001-05:30", "2026-12-04T18:48:47.000001Z"),
    ])
    func microTimeParsesAnyRFC3339AndWritesSixDigitsInUTC(text: String, wire: String) throws {
        let time = try #require(MicroTime(text))
        #expect(time.description == wire)
        let encoded = String(decoding: try JSONEncoder().encode([time]), as: UTF8.self)
        #expect(encoded == "[\"\(wire)\"]")
        #expect(try JSONDecoder().decode([MicroTime].self, from: Data(encoded.utf8)) == [MicroTime(wire)])
    }

    @Test func timeWritesWholeSeconds() throws {
        #expect(try #require(KubeTime("2026-12-04T18:48:47.4Z")).description == "2026-12-04T18:48:47Z")
        #expect(try #require(KubeTime("2026-12-04T19:48:47+01:00")).description == "2026-12-04T18:48:47Z")
    }

    @Test func malformedTimesFailToDecode() {
        #expect(MicroTime("yesterday") == nil)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([MicroTime].self, from: Data(#"["2026-12-04"]"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([KubeTime].self, from: Data("[5]".utf8)) }
    }

    @Test func ordersByInstant() throws {
        #expect(try #require(MicroTime("2026-12-04T18:48:47.000001Z")) > (try #require(MicroTime("2026-12-04T19:48:47+01:00"))))
    }
}
