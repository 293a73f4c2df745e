import KubeIPCore
import Testing
@testable import KubeIPGCP

@Suite struct GCPFilterTests {
    @Test func emptySelectsEveryExternalAddressOfTheFamily() throws {
        for text in ["", "   "] {
            let filter = try GCPFilter.parse(text)
            #expect(filter.isEmpty)
            #expect(filter.apiFilter(family: .ipv4) == #"(addressType = "EXTERNAL") AND (ipVersion != "IPV6")"#)
            #expect(filter.apiFilter(family: .ipv6) == #"(addressType = "EXTERNAL") AND (ipVersion = "IPV6")"#)
        }
    }

    @Test func eachClauseIsWrappedVerbatimAndAndedWithKubeIPsOwn() throws {
        let filter = try GCPFilter.parse("labels.env=prod; labels.app = \"edge\" ")
        #expect(filter.clauses == ["labels.env=prod", #"labels.app = "edge""#])
        #expect(filter.apiFilter(family: .ipv4)
            == #"(labels.env=prod) AND (labels.app = "edge") AND (addressType = "EXTERNAL") AND (ipVersion != "IPV6")"#)
        #expect(filter.apiFilter(family: .ipv6, name: "edge-1")
            == #"(labels.env=prod) AND (labels.app = "edge") AND (addressType = "EXTERNAL") AND (ipVersion = "IPV6") AND (name = "edge-1")"#)
        #expect(filter.description == #"labels.env=prod;labels.app = "edge""#)
    }

    @Test func acceptsTheAPIsOperatorsAndQuotedSeparators() throws {
        for text in ["labels.team:*", "name != old", "creationTimestamp > \"2024-01-01\"", "labels.x <= 3",
                     #"description = "a;b""#, "(labels.env = prod) OR (labels.env = dev)"] {
            let filter = try GCPFilter.parse(text)
            #expect(filter.clauses.count == 1, "\(text)")
            #expect(!filter.usesRegularExpressions)
        }
    }

    @Test func theRegularExpressionDialectIsSentAloneAndNeverNamed() throws {
        let filter = try GCPFilter.parse("name eq edge-.*")
        #expect(filter.usesRegularExpressions)
        #expect(filter.apiFilter(family: .ipv4) == "name eq edge-.*")
        #expect(filter.apiFilter(family: .ipv4, name: "edge-1") == nil)
    }

    @Test(arguments: [
        ("labels.env=prod;", "clause 2 is empty"),
        (";labels.env=prod", "clause 1 is empty"),
        ("labels.env", "no comparison operator"),
        ("labels.env=\"prod", "unbalanced quote"),
        ("(labels.env=prod", "unbalanced parentheses"),
        ("labels.env=prod)", "unbalanced parentheses"),
        ("name eq x;labels.env=prod", "cannot mix"),
        ("name eq x AND labels.a=b", "mixes"),
    ])
    func malformedFiltersNameTheSetting(text: String, why: String) {
        #expect {
            try GCPFilter.parse(text)
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .invalidSetting && error?.setting == "filter" && error?.message.contains(why) == true
        }
    }
}
