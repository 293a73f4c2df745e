import Foundation
import Testing
@testable import KubeIPTestSupport

@Suite struct JSONValueTests {
    @Test func parsesAndPrintsEveryKind() throws {
        let text = #"{"a":[1,2.5,-3e2,true,false,null],"b":{"c":"d\"\\\n\u00e9\ud83d\ude00"},"e":""}"#
        let value = try JSONValue(parsing: text)
        #expect(value["a"]?[0] == 1)
        #expect(value["a"]?[1] == .number(2.5))
        #expect(value["a"]?[2]?.intValue == -300)
        #expect(value["a"]?[3] == true)
        #expect(value["a"]?[5] == .null)
        #expect(value["b"]?["c"]?.stringValue == "d\"\\\né😀")
        let reparsed = try JSONValue(parsing: value.serialized)
        #expect(reparsed == value)
        #expect(JSONValue.object(["b": 1, "a": "x"]).serialized == #"{"a":"x","b":1}"#)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", "tru", "\"\u{01}\"", "{\"a\":1} x",
                      "{\"a\":1,\"a\":2}", "\"\\ud800\"", "[1 2]"])
    func refusesMalformedDocuments(_ text: String) {
        #expect(throws: JSONValue.SyntaxError.self) { try JSONValue(parsing: text) }
    }

    @Test func integersMayComeAsStringsAsProto3Allows() throws {
        #expect(JSONValue.string("96").intValue == 96)
        #expect(JSONValue.number(96.5).intValue == nil)
        #expect(JSONValue.string("x").intValue == nil)
    }

    @Test func roundTripsThroughCodable() throws {
        let value: JSONValue = ["list": [1, "two", true, nil], "nested": ["k": "v"]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        #expect(try JSONValue(parsing: Array(data)) == value)
    }
}

@Suite struct RequestURLTests {
    @Test func splitsAuthorityPathAndDecodedQuery() throws {
        let url = try #require(RequestURL("HTTPS://Compute.GoogleAPIs.com:443/compute/v1/projects/p?filter=(a%20%3D%20%22b%22)+AND+c&x&y=#frag"))
        #expect(url.scheme == "https")
        #expect(url.authority == "compute.googleapis.com")
        #expect(url.rawPath == "/compute/v1/projects/p")
        #expect(url.query.map(\.name) == ["filter", "x", "y"])
        #expect(url.values("filter") == [#"(a = "b") AND c"#])
        #expect(url.pathSegments == ["compute", "v1", "projects", "p"])
        #expect(RequestURL("http://127.0.0.1:1")?.rawPath == "/")
        #expect(RequestURL("http://127.0.0.1:1")?.authority == "127.0.0.1:1")
        #expect(RequestURL("ftp://x/y") == nil)
        #expect(RequestURL("/relative") == nil)
    }

    @Test func decodesForms() {
        let pairs = RequestURL.formPairs("grant_type=urn%3Aietf%3Aparams&assertion=a.b.c&scope=x+y")
        #expect(pairs.map(\.name) == ["grant_type", "assertion", "scope"])
        #expect(pairs.map(\.value) == ["urn:ietf:params", "a.b.c", "x y"])
        #expect(RequestURL.percentDecode("100%") == "100%")
    }
}

@Suite struct GCETimestampTests {
    @Test func printsRFC3339WithMillisecondsAndAPacificOffset() {
        #expect(GCETimestamp.format(Date(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15T00:00:00.000-08:00")
        #expect(GCETimestamp.format(Date(timeIntervalSince1970: 0.25)) == "1969-12-31T16:00:00.250-08:00")
        #expect(GCETimestamp.format(Date(timeIntervalSince1970: 951_825_600)) == "2000-02-29T04:00:00.000-08:00")
    }

    @Test func namesTheSameInstantAsTheDate() throws {
        let date = Date(timeIntervalSince1970: 1_712_345_678.901)
        let parsed = try #require(ISO8601DateFormatter.withFractions.date(from: GCETimestamp.format(date)))
        #expect(abs(parsed.timeIntervalSince1970 - 1_712_345_678.901) < 0.001)
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

@Suite struct AddressFilterTests {
    func fields(_ values: [String: String]) -> (String) -> String? { { values[$0] } }

    @Test func clausesAreAndedAndMissingFieldsDifferFromEveryValue() throws {
        let filter = try AddressFilter(#"(labels.env = "prod") AND (name != "x") labels.app:*"#)
        #expect(filter.clauses.count == 3)
        #expect(filter.matches(fields(["labels.env": "prod", "name": "a", "labels.app": "edge"])))
        #expect(!filter.matches(fields(["labels.env": "prod", "name": "x", "labels.app": "edge"])))
        #expect(!filter.matches(fields(["labels.env": "prod", "name": "a"])))
        #expect(try AddressFilter("labels.env != prod").matches(fields([:])))
        #expect(!(try AddressFilter("labels.env = prod").matches(fields([:]))))
    }

    @Test func quotedValuesKeepSpacesParenthesesAndEscapes() throws {
        let filter = try AddressFilter(#"description = "a (b) \"c\"""#)
        #expect(filter.clauses.first?.value == #"a (b) "c""#)
    }

    @Test func labelKeysFollowLabelRules() {
        #expect(throws: GoogleErrorResponse.self) { try AddressFilter("labels.Env = x") }
        #expect(throws: Never.self) { try AddressFilter("labels.my_key-2 = x") }
    }
}
