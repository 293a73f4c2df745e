import Testing
@testable import KubeIPConfig

private let ns: Int64 = 1
private let us: Int64 = 1_000
private let ms: Int64 = 1_000_000
private let sec: Int64 = 1_000_000_000
private let minute: Int64 = 60 * sec
private let hour: Int64 = 60 * minute

@Suite struct GoDurationTests {
    /// Inputs Go's time.ParseDuration accepts, with the nanoseconds it yields.
    static let valid: [(String, Int64)] = [
        ("0", 0), ("-0", 0), ("+0", 0),
        ("5s", 5 * sec), ("30s", 30 * sec), ("1478s", 1478 * sec), ("-5s", -5 * sec), ("+5s", 5 * sec),
        ("5.0s", 5 * sec), ("5.6s", 5 * sec + 600 * ms), ("5.s", 5 * sec), (".5s", 500 * ms),
        ("1.0s", sec), ("1.00s", sec), ("1.004s", sec + 4 * ms), ("1.0040s", sec + 4 * ms),
        ("100.00100s", 100 * sec + 1 * ms),
        ("10ns", 10 * ns), ("11us", 11 * us), ("12µs", 12 * us), ("12μs", 12 * us), ("13ms", 13 * ms),
        ("14s", 14 * sec), ("15m", 15 * minute), ("16h", 16 * hour),
        ("300ms", 300 * ms), ("1.5h", 90 * minute), ("2h45m", 2 * hour + 45 * minute),
        ("5m0s", 5 * minute), ("1m30s", 90 * sec),
        ("3h30m", 3 * hour + 30 * minute), ("10.5s4m", 4 * minute + 10 * sec + 500 * ms),
        ("-2m3.4s", -(2 * minute + 3 * sec + 400 * ms)),
        ("1h2m3s4ms5us6ns", hour + 2 * minute + 3 * sec + 4 * ms + 5 * us + 6 * ns),
        ("39h9m14.425s", 39 * hour + 9 * minute + 14 * sec + 425 * ms),
        ("52763797000ns", 52_763_797_000),
        ("0.3333333333333333333h", 20 * minute),
        ("9007199254740993ns", 9_007_199_254_740_993),
        ("9223372036854775807ns", Int64.max), ("9223372036854775.807us", Int64.max),
        ("9223372036s854ms775us807ns", Int64.max),
        ("-9223372036854775808ns", Int64.min), ("-9223372036854775.808us", Int64.min),
        ("0.100000000000000000000h", 6 * minute),
        ("0.830103483285477580700h", 49 * minute + 48 * sec + 372_539_827),
    ]

    @Test(arguments: valid)
    func parsesGoSyntax(text: String, nanoseconds: Int64) throws {
        #expect(try GoDuration.parseNanoseconds(text) == nanoseconds)
        #expect(try GoDuration.parse(text) == .nanoseconds(nanoseconds))
    }

    static let invalid: [(String, GoDuration.ParseError)] = [
        ("", .empty), ("3", .missingUnit("3")), ("1.5", .missingUnit("1.5")),
        ("-", .malformed("-")), ("s", .malformed("s")), (".", .malformed(".")), ("-.", .malformed("-.")),
        (".s", .malformed(".s")), ("+.s", .malformed("+.s")), ("5m-3s", .unknownUnit("m-")),
        ("1d", .unknownUnit("d")), ("1 s", .unknownUnit(" s")), ("5sec", .unknownUnit("sec")),
        ("9223372036854775810ns", .overflow("9223372036854775810ns")),
        ("9223372036854775808ns", .overflow("9223372036854775808ns")),
        ("-9223372036854775809ns", .overflow("-9223372036854775809ns")),
        ("3000000h", .overflow("3000000h")),
    ]

    @Test(arguments: invalid)
    func rejectsWhatGoRejects(text: String, error: GoDuration.ParseError) {
        #expect(throws: error) { try GoDuration.parse(text) }
    }

    static let formatted: [(Int64, String)] = [
        (0, "0s"), (1, "1ns"), (1100, "1.1µs"), (2200 * us, "2.2ms"), (3300 * ms, "3.3s"),
        (minute, "1m0s"), (5 * minute, "5m0s"), (1500 * ms, "1.5s"), (300 * ms, "300ms"),
        (4 * minute + 5 * sec, "4m5s"), (4 * minute + 5001 * ms, "4m5.001s"),
        (5 * hour + 6 * minute + 7001 * ms, "5h6m7.001s"), (8 * minute + 1, "8m0.000000001s"),
        (hour, "1h0m0s"), (2 * hour + 45 * minute, "2h45m0s"),
        (-5 * sec, "-5s"), (-1500 * ms, "-1.5s"), (-1, "-1ns"),
        (Int64.max, "2562047h47m16.854775807s"), (Int64.min, "-2562047h47m16.854775808s"),
    ]

    @Test(arguments: formatted)
    func formatsTheGoWay(nanoseconds: Int64, text: String) throws {
        #expect(GoDuration.format(.nanoseconds(nanoseconds)) == text)
        #expect(try GoDuration.parseNanoseconds(text) == nanoseconds)
    }

    @Test func formatDropsSubNanosecondParts() {
        #expect(GoDuration.format(.seconds(1) + .nanoseconds(1) / 4) == "1s")
    }

    @Test func errorsDescribeTheProblem() {
        #expect(GoDuration.ParseError.missingUnit("3").description.contains("without a unit"))
        #expect(GoDuration.ParseError.unknownUnit("d").description.contains("'d'"))
    }
}
