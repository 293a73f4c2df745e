import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
import KubeIPSimulator
@testable import KubeIPTestSupport

/// Mutations, operations and the address/interface effects they have when they complete.
@Suite struct ComputeEngineDoubleOperationTests {
    @Test func theSwapReplacesTheEphemeralConfigWithAReservedAddress() async throws {
        let world = await GCEWorld()
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        let before = try #require(await world.double.instance("vm-1")?.nic0.fingerprint)

        let (deleteStatus, delete) = try await world.deleteAccessConfig()
        #expect(deleteStatus == 200)
        #expect(delete["kind"] == "compute#operation")
        #expect(delete["status"] == "PENDING")
        #expect(delete["operationType"] == "deleteAccessConfig")
        #expect(delete["targetLink"]?.stringValue?.hasSuffix("projects/kubeip-sim/zones/europe-west1-b/instances/vm-1") == true)
        #expect(try await world.operation(try #require(delete["name"]?.stringValue), wait: true)["status"] == "DONE")
        #expect(await world.double.accessConfigs(of: "vm-1").isEmpty)

        let (addStatus, add) = try await world.addAccessConfig(natIP: "34.76.1.10")
        #expect(addStatus == 200)
        let done = try await world.operation(try #require(add["name"]?.stringValue))
        #expect(done["status"] == "DONE")
        #expect(done["error"] == nil)
        #expect(done["progress"] == 100)

        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.map(\.natIP) == ["34.76.1.10"])
        #expect(configs.first?.isEphemeral == false)
        let address = try #require(await world.double.address("a"))
        #expect(address.status == "IN_USE")
        #expect(address.users == [try #require(await world.double.instance("vm-1")?.selfLink)])
        #expect(await world.double.instance("vm-1")?.nic0.fingerprint != before)

        let (_, removal) = try await world.deleteAccessConfig()
        _ = try await world.operation(try #require(removal["name"]?.stringValue))
        #expect(await world.double.address("a")?.status == "RESERVED")
        #expect(await world.double.address("a")?.users == [])
    }

    @Test func anAddressInUseElsewhereFailsTheOperationNotTheRequest() async throws {
        let world = await GCEWorld()
        await world.double.createInstance(name: "vm-2", withEphemeralIPv4: false)
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        await world.double.attachAddress("a", to: "vm-1")

        let (status, pending) = try await world.addAccessConfig("vm-2", natIP: "34.76.1.10")
        #expect(status == 200)
        let done = try await world.operation(try #require(pending["name"]?.stringValue))
        #expect(done["status"] == "DONE")
        #expect(done["error"]?["errors"]?[0]?["code"] == "IP_IN_USE_BY_ANOTHER_RESOURCE")
        #expect(done["error"]?["errors"]?[0]?["message"] == "IP '34.76.1.10' is already being used by another resource.")
        #expect(await world.double.accessConfigs(of: "vm-2").isEmpty)
        #expect(await world.double.address("a")?.users == [try #require(await world.double.instance("vm-1")?.selfLink)])
    }

    @Test func twoClaimersRacingForOneAddressGetOneWinner() async throws {
        let world = await GCEWorld(configuration: .init(operationDelay: .seconds(10)))
        await world.double.createInstance(name: "vm-2", withEphemeralIPv4: false)
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        let (_, first) = try await world.deleteAccessConfig()
        world.clock.advance(by: .seconds(10))
        _ = try await world.operation(try #require(first["name"]?.stringValue))

        let (_, one) = try await world.addAccessConfig(natIP: "34.76.1.10")
        let (_, two) = try await world.addAccessConfig("vm-2", natIP: "34.76.1.10")
        #expect(await world.double.address("a")?.status == "RESERVED")
        world.clock.advance(by: .seconds(10))
        let winner = try await world.operation(try #require(one["name"]?.stringValue))
        let loser = try await world.operation(try #require(two["name"]?.stringValue))
        #expect(winner["error"] == nil)
        #expect(loser["error"]?["errors"]?[0]?["code"] == "IP_IN_USE_BY_ANOTHER_RESOURCE")
        #expect(await world.double.accessConfigs(of: "vm-1").map(\.natIP) == ["34.76.1.10"])
        #expect(await world.double.accessConfigs(of: "vm-2").isEmpty)
    }

    @Test func aNICHoldsAtMostOneIPv4AccessConfig() async throws {
        let world = await GCEWorld()
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        let (status, json) = try await world.addAccessConfig(natIP: "34.76.1.10")
        #expect(status == 400)
        #expect(json.errorMessage.contains("at most one"))
        #expect(await world.double.address("a")?.status == "RESERVED")
    }

    @Test func addressesMustBeReservedExternalOfTheRightFamily() async throws {
        let world = await GCEWorld(stackType: "IPV4_IPV6")
        await world.double.reserveAddress(name: "internal", ip: "10.0.0.9", addressType: "INTERNAL")
        await world.double.reserveAddress(name: "v6", ip: "2600:1900:4041:100::")
        await world.double.reserveAddress(name: "standard", ip: "35.1.1.1", networkTier: "STANDARD")
        let (_, delete) = try await world.deleteAccessConfig()
        _ = try await world.operation(try #require(delete["name"]?.stringValue))
        #expect(try await world.addAccessConfig(natIP: "8.8.8.8").0 == 400)
        #expect(try await world.addAccessConfig(natIP: "10.0.0.9").0 == 400)
        #expect(try await world.addAccessConfig(natIP: "2600:1900:4041:100::").0 == 400)
        let mismatchedTier = try await world.compute(
            "POST", "zones/europe-west1-b/instances/vm-1/addAccessConfig?networkInterface=nic0",
            body: ["natIP": "35.1.1.1", "networkTier": "PREMIUM"])
        #expect(mismatchedTier.status == 400)
        #expect(try await world.addAccessConfig(natIP: "35.1.1.1").0 == 200)
        #expect(await world.double.accessConfigs(of: "vm-1").first?.networkTier == "STANDARD")
    }

    @Test func anEphemeralConfigGetsAFreshIP() async throws {
        let world = await GCEWorld()
        let old = await world.double.accessConfigs(of: "vm-1").first?.natIP
        let (_, delete) = try await world.deleteAccessConfig()
        _ = try await world.operation(try #require(delete["name"]?.stringValue))
        let added = try await world.compute("POST", "zones/europe-west1-b/instances/vm-1/addAccessConfig?networkInterface=nic0",
                                            body: ["type": "ONE_TO_ONE_NAT", "name": "external-nat"])
        _ = try await world.operation(try #require(added.json["name"]?.stringValue))
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.count == 1)
        #expect(configs[0].isEphemeral)
        #expect(configs[0].name == "external-nat")
        #expect(configs[0].natIP != nil && configs[0].natIP != old)
    }

    @Test func deletingAnAccessConfigThatIsNotThereIs400() async throws {
        let world = await GCEWorld()
        let (status, _) = try await world.deleteAccessConfig(name: "no-such-config")
        #expect(status == 400)
    }

    @Test func operationsFinishLaterOnTheClockAndChangeNothingUntilThen() async throws {
        let world = await GCEWorld(configuration: .init(operationDelay: .seconds(30)))
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        let (_, delete) = try await world.deleteAccessConfig()
        let name = try #require(delete["name"]?.stringValue)
        #expect(delete["status"] == "PENDING")
        #expect(try await world.operation(name)["status"] == "RUNNING")
        // On a manual clock, wait answers the current state at once rather than blocking.
        #expect(try await world.operation(name, wait: true)["status"] == "RUNNING")
        #expect(await world.double.accessConfigs(of: "vm-1").count == 1)
        world.clock.advance(by: .seconds(29))
        #expect(try await world.operation(name)["status"] == "RUNNING")
        world.clock.advance(by: .seconds(1))
        let done = try await world.operation(name)
        #expect(done["status"] == "DONE")
        #expect(done["endTime"] != nil)
        #expect(await world.double.accessConfigs(of: "vm-1").isEmpty)
    }

    @Test func operationsOnOneInstanceCompleteInOrder() async throws {
        let world = await GCEWorld(configuration: .init(operationDelay: .seconds(5)))
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        let (_, delete) = try await world.deleteAccessConfig()
        world.clock.advance(by: .seconds(5))
        _ = try await world.operation(try #require(delete["name"]?.stringValue))
        let (_, add) = try await world.addAccessConfig(natIP: "34.76.1.10")
        world.clock.advance(by: .seconds(2))
        // Accepted while the add still runs (the NIC has no config yet), due after it.
        let (_, second) = try await world.addAccessConfig()
        world.clock.advance(by: .seconds(3))
        #expect(try await world.operation(try #require(add["name"]?.stringValue))["status"] == "DONE")
        #expect(try await world.operation(try #require(second["name"]?.stringValue))["status"] == "RUNNING")
        world.clock.advance(by: .seconds(5))
        let failed = try await world.operation(try #require(second["name"]?.stringValue))
        #expect(failed["error"]?["errors"]?[0]?["code"] != nil)
        #expect(await world.double.accessConfigs(of: "vm-1").map(\.natIP) == ["34.76.1.10"])
    }

    @Test func waitSleepsOnTheClockUpToItsLimit() async throws {
        let clock = ManualClock(autoAdvance: true)
        let double = ComputeEngineDouble(configuration: .init(operationDelay: .seconds(40), waitLimit: .seconds(120),
                                                              waitMode: .sleepOnClock), clock: clock)
        await double.createInstance(name: "vm-1")
        let token = await double.issueToken()
        let client = double.client(for: "vm-1")
        func send(_ method: String, _ path: String) async throws -> JSONValue {
            let response = try await client.send(HTTPRequest(method: method, url: GCEWorld.base + path,
                                                             headers: [HTTPHeader("Authorization", "Bearer \(token)")]))
            return try JSONValue(parsing: response.body)
        }
        let op = try await send("POST", "zones/europe-west1-b/instances/vm-1/deleteAccessConfig?accessConfig=External%20NAT&networkInterface=nic0")
        let name = try #require(op["name"]?.stringValue)
        let done = try await send("POST", "zones/europe-west1-b/operations/\(name)/wait")
        #expect(done["status"] == "DONE")
        #expect(clock.elapsed == .seconds(40))

        await double.update { $0.operationDelay = .seconds(600) }
        let slow = try await send("POST", "zones/europe-west1-b/instances/vm-1/addAccessConfig?networkInterface=nic0")
        let slowName = try #require(slow["name"]?.stringValue)
        let still = try await send("POST", "zones/europe-west1-b/operations/\(slowName)/wait")
        #expect(still["status"] == "RUNNING")
        #expect(clock.elapsed == .seconds(160))
    }

    @Test func aRepeatedRequestIDAnswersTheSameOperationOnce() async throws {
        let world = await GCEWorld()
        let path = "zones/europe-west1-b/instances/vm-1/deleteAccessConfig?accessConfig=External%20NAT&networkInterface=nic0"
            + "&requestId=4b9a2c1e-8f3d-4e6a-9b7c-0d1e2f3a4b5c"
        let first = try await world.compute("POST", path)
        let second = try await world.compute("POST", path)
        #expect(first.status == 200 && second.status == 200)
        #expect(first.json["name"] == second.json["name"])
        #expect(await world.double.allOperations().count == 1)
    }

    @Test func updateNetworkInterfaceNeedsTheCurrentFingerprint() async throws {
        let world = await GCEWorld(stackType: "IPV4_IPV6")
        await world.double.reserveAddress(name: "v6", ip: "2600:1900:4041:100::")
        let path = "zones/europe-west1-b/instances/vm-1/updateNetworkInterface?networkInterface=nic0"
        let ipv6: JSONValue = [["type": "DIRECT_IPV6", "name": "External IPv6", "externalIpv6": "2600:1900:4041:100::",
                                "externalIpv6PrefixLength": 96]]

        let missing = try await world.compute("PATCH", path, body: ["ipv6AccessConfigs": ipv6])
        #expect(missing.status == 400)
        let stale = try await world.compute("PATCH", path, body: ["fingerprint": "c3RhbGU=", "ipv6AccessConfigs": ipv6])
        #expect(stale.status == 412)
        #expect(stale.json["error"]?["errors"]?[0]?["reason"] == "conditionNotMet")

        let instance = try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").json
        let fingerprint = try #require(instance["networkInterfaces"]?[0]?["fingerprint"])
        let accepted = try await world.compute("PATCH", path, body: ["fingerprint": fingerprint, "ipv6AccessConfigs": ipv6])
        #expect(accepted.status == 200)
        #expect(accepted.json["operationType"] == "updateNetworkInterface")
        _ = try await world.operation(try #require(accepted.json["name"]?.stringValue))
        #expect(await world.double.ipv6AccessConfigs(of: "vm-1").map(\.externalIpv6) == ["2600:1900:4041:100::"])
        #expect(await world.double.address("v6")?.status == "IN_USE")

        // The fingerprint changed with the interface: the old one is now stale.
        let again = try await world.compute("PATCH", path, body: ["fingerprint": fingerprint, "ipv6AccessConfigs": []])
        #expect(again.status == 412)
    }

    @Test func updateNetworkInterfaceEchoingTheInterfaceIsAccepted() async throws {
        let world = await GCEWorld(stackType: "IPV4_IPV6")
        await world.double.reserveAddress(name: "v6", ip: "2600:1900:4041:100::")
        let instance = try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").json
        var nic = try #require(instance["networkInterfaces"]?[0]?.objectValue)
        nic["ipv6AccessConfigs"] = [["type": "DIRECT_IPV6", "name": "External IPv6", "externalIpv6": "2600:1900:4041:100::"]]
        let path = "zones/europe-west1-b/instances/vm-1/updateNetworkInterface?networkInterface=nic0"
        let accepted = try await world.compute("PATCH", path, body: .object(nic))
        #expect(accepted.status == 200)
        nic["networkIP"] = "10.9.9.9"
        nic["fingerprint"] = .string(try #require(await world.double.instance("vm-1")?.nic0.fingerprint))
        #expect(try await world.compute("PATCH", path, body: .object(nic)).status == 400)
    }

    @Test func anIPv6AddressInUseFailsTheUpdateOperation() async throws {
        let world = await GCEWorld(stackType: "IPV4_IPV6")
        await world.double.createInstance(name: "vm-2", stackType: "IPV4_IPV6")
        await world.double.reserveAddress(name: "v6", ip: "2600:1900:4041:100::")
        await world.double.attachAddress("v6", to: "vm-2")
        let fingerprint = try #require(await world.double.instance("vm-1")?.nic0.fingerprint)
        let result = try await world.compute(
            "PATCH", "zones/europe-west1-b/instances/vm-1/updateNetworkInterface?networkInterface=nic0",
            body: ["fingerprint": .string(fingerprint),
                   "ipv6AccessConfigs": [["type": "DIRECT_IPV6", "externalIpv6": "2600:1900:4041:100::"]]])
        #expect(result.status == 200)
        let done = try await world.operation(try #require(result.json["name"]?.stringValue))
        #expect(done["error"]?["errors"]?[0]?["code"] == "IP_IN_USE_BY_ANOTHER_RESOURCE")
        #expect(await world.double.ipv6AccessConfigs(of: "vm-1").isEmpty)
    }

    @Test func ipv6NeedsADualStackInterfaceAndOneConfigAtMost() async throws {
        let world = await GCEWorld()
        await world.double.reserveAddress(name: "v6", ip: "2600:1900:4041:100::")
        await world.double.reserveAddress(name: "v6b", ip: "2600:1900:4041:200::")
        let fingerprint = try #require(await world.double.instance("vm-1")?.nic0.fingerprint)
        let path = "zones/europe-west1-b/instances/vm-1/updateNetworkInterface?networkInterface=nic0"
        let onIPv4Only = try await world.compute("PATCH", path, body: [
            "fingerprint": .string(fingerprint),
            "ipv6AccessConfigs": [["type": "DIRECT_IPV6", "externalIpv6": "2600:1900:4041:100::"]]])
        #expect(onIPv4Only.status == 400)
        let two = try await world.compute("PATCH", path, body: [
            "fingerprint": .string(fingerprint), "stackType": "IPV4_IPV6",
            "ipv6AccessConfigs": [["externalIpv6": "2600:1900:4041:100::"], ["externalIpv6": "2600:1900:4041:200::"]]])
        #expect(two.status == 400)
        let both = try await world.compute("PATCH", path, body: [
            "fingerprint": .string(fingerprint), "stackType": "IPV4_IPV6",
            "ipv6AccessConfigs": [["type": "DIRECT_IPV6", "externalIpv6": "2600:1900:4041:100::", "externalIpv6PrefixLength": 96]]])
        #expect(both.status == 200)
        _ = try await world.operation(try #require(both.json["name"]?.stringValue))
        #expect(await world.double.instance("vm-1")?.nic0.stackType == "IPV4_IPV6")
        #expect(await world.double.address("v6")?.status == "IN_USE")
    }

    @Test func deletingAnInstanceFreesItsAddressesAndFailsItsOperations() async throws {
        let world = await GCEWorld(configuration: .init(operationDelay: .seconds(5)))
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        await world.double.attachAddress("a", to: "vm-1")
        let (_, delete) = try await world.deleteAccessConfig()
        await world.double.deleteInstance("vm-1")
        #expect(await world.double.address("a")?.status == "RESERVED")
        world.clock.advance(by: .seconds(5))
        let operationName = try #require(delete["name"]?.stringValue)
        let operation = try #require(await world.double.operation(operationName))
        #expect(operation.status == "DONE")
        #expect(operation.errors.first?.code == "RESOURCE_NOT_FOUND")
    }
}
