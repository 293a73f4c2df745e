import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPTestSupport

/// addresses.list: paging, filter, orderBy.
@Suite struct ComputeEngineDoubleListTests {
    func listNames(_ world: GCEWorld, _ query: String) async throws -> (status: Int, names: [String], next: String?, json: JSONValue) {
        let result = try await world.compute("GET", "regions/europe-west1/addresses" + query)
        let names = result.json["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        return (result.status, names, result.json["nextPageToken"]?.stringValue, result.json)
    }

    func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    func reservePool(_ world: GCEWorld) async {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        await world.double.reserveAddress(name: "e-prod", ip: "34.76.1.5", labels: ["env": "prod", "app": "edge"],
                                          createdAt: start.addingTimeInterval(50))
        await world.double.reserveAddress(name: "a-prod", ip: "34.76.1.1", labels: ["env": "prod"], createdAt: start)
        await world.double.reserveAddress(name: "c-dev", ip: "34.76.1.3", labels: ["env": "dev"],
                                          createdAt: start.addingTimeInterval(30))
        await world.double.reserveAddress(name: "b-prod", ip: "34.76.1.2", labels: ["env": "prod"],
                                          createdAt: start.addingTimeInterval(10))
        await world.double.reserveAddress(name: "d-v6", ip: "2600:1900:4041:100::", labels: ["env": "prod"],
                                          createdAt: start.addingTimeInterval(40))
    }

    @Test func theDefaultPageIsSmallSoClientsMustPage() async throws {
        let world = await GCEWorld()
        await reservePool(world)
        var names: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await listNames(world, token.map { "?pageToken=\(encode($0))" } ?? "")
            #expect(page.status == 200)
            #expect(page.names.count <= 2)
            names += page.names
            token = page.next
            pages += 1
        } while token != nil
        #expect(pages == 3)
        #expect(names == ["a-prod", "b-prod", "c-dev", "d-v6", "e-prod"])
    }

    @Test func maxResultsSetsThePageSizeWithinTheDocumentsRange() async throws {
        let world = await GCEWorld()
        await reservePool(world)
        let all = try await listNames(world, "?maxResults=500")
        #expect(all.names.count == 5)
        #expect(all.next == nil)
        let three = try await listNames(world, "?maxResults=3")
        #expect(three.names == ["a-prod", "b-prod", "c-dev"])
        let rest = try await listNames(world, "?maxResults=3&pageToken=\(encode(try #require(three.next)))")
        #expect(rest.names == ["d-v6", "e-prod"])
        #expect(try await listNames(world, "?maxResults=501").status == 400)
        #expect(try await listNames(world, "?maxResults=-1").status == 400)
        #expect(try await listNames(world, "?maxResults=ten").status == 400)
    }

    @Test func pageTokensAreBoundToTheirQuery() async throws {
        let world = await GCEWorld()
        await reservePool(world)
        let first = try await listNames(world, "?filter=\(encode("labels.env=prod"))")
        let token = try #require(first.next)
        #expect(try await listNames(world, "?filter=\(encode("labels.env=prod"))&pageToken=\(encode(token))").status == 200)
        #expect(try await listNames(world, "?pageToken=\(encode(token))").status == 400)
        #expect(try await listNames(world, "?pageToken=garbage").status == 400)
    }

    @Test func theFilterKubeipSendsSelectsByLabelTypeAndVersion() async throws {
        let world = await GCEWorld()
        await reservePool(world)
        let filter = #"(labels.env = "prod") AND (addressType = "EXTERNAL") AND (ipVersion = "IPV4")"#
        let result = try await listNames(world, "?maxResults=500&filter=\(encode(filter))")
        #expect(result.status == 200)
        #expect(result.names == ["a-prod", "b-prod", "e-prod"])
        let wrapped = "(labels.env=prod) (labels.app=edge) (ipVersion = \"IPV4\")"
        #expect(try await listNames(world, "?maxResults=500&filter=\(encode(wrapped))").names == ["e-prod"])
        let v6 = #"(labels.env = "prod") AND (ipVersion = "IPV6")"#
        #expect(try await listNames(world, "?maxResults=500&filter=\(encode(v6))").names == ["d-v6"])
    }

    @Test(arguments: [
        ("labels.env=prod", ["a-prod", "b-prod", "d-v6", "e-prod"]),
        ("labels.env != prod", ["c-dev"]),
        ("(labels.app:*)", ["e-prod"]),
        ("name = \"c-dev\"", ["c-dev"]),
        ("(status = RESERVED) AND (address = \"34.76.1.2\")", ["b-prod"]),
        ("(ipVersion != \"IPV6\")", ["a-prod", "b-prod", "c-dev", "e-prod"]),
        ("((labels.env = prod) AND (labels.app = edge))", ["e-prod"]),
        ("labels.nothere = x", []),
    ])
    func filterForms(_ filter: String, _ expected: [String]) async throws {
        let world = await GCEWorld()
        await reservePool(world)
        let result = try await listNames(world, "?maxResults=500&filter=\(encode(filter))")
        #expect(result.status == 200, "\(filter): \(result.json.errorMessage)")
        #expect(result.names == expected, "\(filter)")
    }

    @Test(arguments: [
        "(labels.env = \"prod\"",
        "labels.env = \"prod",
        "(labels.env = prod) OR (labels.env = dev)",
        "NOT (labels.env = prod)",
        "-labels.env = prod",
        "name eq a-.*",
        "prefixLength > 64",
        "labels.env",
        "labels.env =",
        "bogusField = 1",
        "labels.env.deeper = x",
        "name = a-*",
        "AND (name = a)",
        "(name = a) AND",
        "()",
    ])
    func filtersTheDoubleCannotParseAre400(_ filter: String) async throws {
        let world = await GCEWorld()
        await reservePool(world)
        let result = try await listNames(world, "?filter=\(encode(filter))")
        #expect(result.status == 400, "\(filter)")
        #expect(result.json["error"]?["status"] == "INVALID_ARGUMENT")
    }

    @Test func anAddressWithoutIPVersionDoesNotMatchIPVersionIPV4() async throws {
        let world = await GCEWorld()
        await world.double.reserveAddress(name: "legacy", ip: "34.76.1.9", reportsIPVersion: false)
        let json = try await world.compute("GET", "regions/europe-west1/addresses/legacy").json
        #expect(json["ipVersion"] == nil)
        #expect(try await listNames(world, "?filter=\(encode("(ipVersion = \"IPV4\")"))").names == [])
        #expect(try await listNames(world, "?filter=\(encode("(ipVersion != \"IPV6\")"))").names == ["legacy"])
    }

    @Test func orderByAcceptsOnlyNameAndCreationTimestampDesc() async throws {
        let world = await GCEWorld()
        await reservePool(world)
        #expect(try await listNames(world, "?maxResults=500&orderBy=name").names == ["a-prod", "b-prod", "c-dev", "d-v6", "e-prod"])
        let newest = try await listNames(world, "?maxResults=500&orderBy=\(encode("creationTimestamp desc"))")
        #expect(newest.names == ["e-prod", "d-v6", "c-dev", "b-prod", "a-prod"])
        for bad in ["address", "name desc", "creationTimestamp", "labels.env", "creationTimestamp asc"] {
            #expect(try await listNames(world, "?orderBy=\(encode(bad))").status == 400, "\(bad)")
        }
    }

    @Test func listedAddressesCarryTheirHolder() async throws {
        let world = await GCEWorld()
        await reservePool(world)
        await world.double.attachAddress("b-prod", to: "vm-1")
        let list = try await listNames(world, "?maxResults=500").json
        let held = try #require(list["items"]?.arrayValue?.first { $0["name"] == "b-prod" })
        #expect(held["status"] == "IN_USE")
        #expect(held["users"] == [.string(try #require(await world.double.instance("vm-1")?.selfLink))])
        let free = try #require(list["items"]?.arrayValue?.first { $0["name"] == "a-prod" })
        #expect(free["status"] == "RESERVED")
        #expect(free["users"] == nil)
        #expect(free["creationTimestamp"]?.stringValue?.hasSuffix("-08:00") == true)
    }
}
