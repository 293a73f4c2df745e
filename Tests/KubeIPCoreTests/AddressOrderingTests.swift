import KubeIPCore
import Testing

@Suite struct AddressOrderingTests {
    private func address(_ id: String, _ ip: String, _ fields: [String: String] = [:]) -> PoolAddress {
        var all = fields
        all["PublicIp"] = ip
        return PoolAddress(id: id, ip: ip, fields: all)
    }

    @Test func ipsSortNumericallyNotAsText() {
        let list = [address("a", "10.0.0.10"), address("b", "10.0.0.9"), address("c", "9.255.0.1")]
        #expect(AddressOrdering(field: "PublicIp").sorted(list).map(\.id) == ["c", "b", "a"])
        #expect(AddressOrdering(field: "PublicIp", descending: true).sorted(list).map(\.id) == ["a", "b", "c"])
    }

    @Test func ipv6SortsNumerically() {
        let list = [address("a", "2001:db8::10"), address("b", "2001:db8::9"), address("c", "2001:db8:0:0:0:0:0:1")]
        #expect(AddressOrdering(field: "PublicIp").sorted(list).map(\.id) == ["c", "b", "a"])
    }

    @Test func emptyFieldsSortLastInBothDirections() {
        let list = [address("a", "1.1.1.1"), address("b", "1.1.1.2", ["Tag:prio": "2"]),
                    address("c", "1.1.1.3", ["Tag:prio": ""]), address("d", "1.1.1.4", ["Tag:prio": "10"])]
        #expect(AddressOrdering(field: "Tag:prio").sorted(list).map(\.id) == ["b", "d", "a", "c"])
        #expect(AddressOrdering(field: "Tag:prio", descending: true).sorted(list).map(\.id) == ["d", "b", "a", "c"])
    }

    @Test func parsing() throws {
        #expect(try AddressOrdering(parsing: "PublicIp") == AddressOrdering(field: "PublicIp"))
        #expect(try AddressOrdering(parsing: "Tag:prio desc") == AddressOrdering(field: "Tag:prio", descending: true))
        #expect(try AddressOrdering(parsing: " AllocationId  asc ") == AddressOrdering(field: "AllocationId"))
        for bad in ["", "a b c", "PublicIp sideways", "Tag:"] {
            let error = #expect(throws: KubeIPError.self) { try AddressOrdering(parsing: bad) }
            #expect(error?.setting == "order-by")
            #expect(error?.code == .invalidSetting)
        }
    }
}
