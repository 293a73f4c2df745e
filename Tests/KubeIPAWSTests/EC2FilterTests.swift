import KubeIPCore
import Testing
@testable import KubeIPAWS

@Suite struct EC2FilterTests {
    @Test func parsesTheShorthandWithANDedFiltersAndORedValues() throws {
        let filter = try EC2Filter.parse("Name=tag:env,Values=prod,dev;Name=domain,Values=vpc")
        #expect(filter.clauses == [.init(name: "tag:env", values: ["prod", "dev"]), .init(name: "domain", values: ["vpc"])])
        #expect(filter.queryParameters().map { "\($0.0)=\($0.1)" } == [
            "Filter.1.Name=tag:env", "Filter.1.Value.1=prod", "Filter.1.Value.2=dev",
            "Filter.2.Name=domain", "Filter.2.Value.1=vpc",
        ])
        #expect(filter.description == "Name=tag:env,Values=prod,dev;Name=domain,Values=vpc")
    }

    @Test func acceptsKubeIPv2Filters() throws {
        let filter = try EC2Filter.parse("Name=tag:kubeip,Values=reserved")
        #expect(filter.clauses == [.init(name: "tag:kubeip", values: ["reserved"])])
    }

    @Test func toleratesWhitespaceTrailingSeparatorsAndEitherOrder() throws {
        let filter = try EC2Filter.parse("  Name = tag:env , Values = prod ,  dev ; ;Values=vpc,Name=domain; ")
        #expect(filter.clauses == [.init(name: "tag:env", values: ["prod", "dev"]), .init(name: "domain", values: ["vpc"])])
    }

    @Test func quotedValuesMayHoldSeparators() throws {
        let filter = try EC2Filter.parse(#"Name=tag:team,Values="a,b",'c;d'"#)
        #expect(filter.clauses == [.init(name: "tag:team", values: ["a,b", "c;d"])])
    }

    @Test(arguments: ["", "   ", ";"])
    func emptyMeansEveryAddress(_ text: String) throws {
        #expect(try EC2Filter.parse(text).isEmpty)
    }

    @Test(arguments: ["tag:env=prod", "Name=tag:env", "Values=prod", "Name=tag:env,Values=", "Name=,Values=x",
                      "Name=tag:env,Values=prod,,dev", "Name=a,Name=b,Values=x", "Name=tag:env,Values=\"prod",
                      "Name=tag:,Values=x", "Name=bogus-filter,Values=x", "labels.env=prod",
                      "Name=public-ipv4-pool,Values=amazon"])
    func rejectsMalformedFiltersNamingTheSetting(_ text: String) {
        do {
            _ = try EC2Filter.parse(text)
            Issue.record("accepted '\(text)'")
        } catch let error as KubeIPError {
            #expect(error.code == .invalidSetting)
            #expect(error.setting == "filter")
            #expect(error.message.contains(text))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// The DescribeAddresses API reference's filter names, plus `domain` (still accepted by EC2).
    @Test(arguments: ["allocation-id", "association-id", "domain", "instance-id", "network-border-group",
                      "network-interface-id", "network-interface-owner-id", "private-ip-address", "public-ip", "tag-key"])
    func acceptsEveryDocumentedFilterName(_ name: String) throws {
        #expect(try EC2Filter.parse("Name=\(name),Values=x").clauses == [.init(name: name, values: ["x"])])
    }

    @Test func theMalformedMessageShowsTheExpectedForm() {
        #expect(throws: KubeIPError.invalid("filter", "expected Name=<filter>,Values=<v1>[,<v2>...] separated by ';', e.g. Name=tag:env,Values=prod; got 'env=prod' ('env=prod' is neither Name=... nor Values=...)")) {
            try EC2Filter.parse("env=prod")
        }
    }
}
