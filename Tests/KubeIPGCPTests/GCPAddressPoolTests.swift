import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPTestSupport
import Testing
@testable import KubeIPGCP

@Suite struct GCPAddressPoolTests {
    static func world(_ configure: (inout ComputeEngineDouble.Configuration) -> Void = { _ in }) async -> GCEWorld {
        let world = GCEWorld(configure)
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        await world.double.reserveAddress(name: "edge-b", ip: "35.200.0.2", labels: ["kubeip": "reserved"], reportsIPVersion: false)
        await world.double.reserveAddress(name: "other", ip: "35.200.0.9", labels: ["team": "web"])
        return world
    }

    /// The pool world with vm-1, its adapter and identity, and edge-a as the pool lists it.
    static func vm1(_ configure: (inout ComputeEngineDouble.Configuration) -> Void = { _ in }) async throws
        -> (GCEWorld, CloudAdapter, InstanceIdentity, PoolAddress) {
        let world = await Self.world(configure)
        await world.double.createInstance(name: "vm-1")
        let cloud = try world.adapter("vm-1")
        let me = try await cloud.identity.identity()
        let edgeA = try #require(try await cloud.pool.addresses(family: .ipv4, for: me).first { $0.id == "edge-a" })
        return (world, cloud, me, edgeA)
    }

    /// One look of `vm`'s engine at a pool of `address` alone, which `rival` takes just as
    /// `vm` sends its attach: the pool is exhausted.
    static func lose(_ address: String, in world: GCEWorld, from vm: String, to rival: String,
                     family: IPFamily = .ipv4) async throws {
        let double = world.double
        let takeIt = Once(family == .ipv4 ? "/addAccessConfig" : "/updateNetworkInterface") {
            await double.attachAddress(address, to: rival)
        }
        let engine = try world.engine(vm, families: [family], retryAttempts: 1, interpose: { await takeIt($0) })
        await #expect {
            try await engine.acquire()
        } throws: { ($0 as? KubeIPError)?.code == .poolExhausted }
    }

    @Test func aFirstIPv4AssignmentCostsEightComputeCallsAndTwoChecks() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        await world.double.setPrivateGoogleAccess(true)
        let ephemeral = try #require(await world.double.accessConfigs(of: "vm-1").first?.natIP)
        let engine = try world.engine("vm-1")
        let held = try await engine.acquire()
        let address = try #require(held.first?.address)
        #expect(["edge-a", "edge-b"].contains(address.id))
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.map(\.natIP) == [address.ip])
        #expect(configs.first?.isEphemeral == false)
        #expect(configs.first?.name == "External NAT")
        #expect(address.ip != ephemeral)
        let stored = try #require(await world.double.address(address.id))
        #expect(stored.status == "IN_USE")
        #expect(stored.users == [await world.selfLink("vm-1")])
        // The checks before the first delete: compute.addresses.use granted, the subnet has Private Google Access.
        #expect(await world.computeCalls() == [
            "compute.addresses.list", "compute.addresses.get", "compute.instances.get",
            "compute.addresses.testIamPermissions", "compute.subnetworks.get",
            "compute.instances.deleteAccessConfig", "compute.zoneOperations.wait",
            "compute.instances.addAccessConfig", "compute.zoneOperations.wait", "compute.addresses.list",
        ])
        #expect(!world.logs.text.contains("Private Google Access on"))
        // The address without an ipVersion is in the pool too.
        let pool = try await world.adapter("vm-1").pool.addresses(family: .ipv4, for: try await engine.discover())
        #expect(pool.map(\.id) == ["edge-a", "edge-b"])
    }

    @Test func anUnspecifiedVersionIsIPv4AndALoadBalancerRangeIsNoIPv6Candidate() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "edge-u", ip: "35.200.0.7", labels: ["kubeip": "reserved"],
                                          ipVersion: "UNSPECIFIED_VERSION")
        await world.double.reserveAddress(name: "v6-lb", ip: "2600:1900:4041:b00::", labels: ["kubeip": "reserved"])
        await world.double.reserveAddress(name: "v6-vm", ip: "2600:1900:4041:c00::", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-d", stackType: "IPV4_IPV6", withEphemeralIPv6: true)
        // The double makes every external IPv6 range a VM's: its answers are amended to make v6-lb a load balancer's.
        let netlb: Interposer.Answer = { request, double in
            guard request.path.contains("/addresses") else { return nil }
            return try amendAddress("v6-lb", in: try await double.send(request)) { $0["ipv6EndpointType"] = "NETLB" }
        }
        let engine = try world.engine("vm-d", families: [.ipv4, .ipv6], retryAttempts: 1, orderBy: "name", answer: netlb)
        let held = try await engine.acquire()
        #expect(held.map(\.address.id) == ["edge-u", "v6-vm"])
        #expect(await world.double.accessConfigs(of: "vm-d").map(\.natIP) == ["35.200.0.7"])
        let cloud = try world.adapter("vm-d", answer: netlb)
        let me = try await engine.discover()
        #expect(try await cloud.pool.addresses(family: .ipv6, for: me).map(\.id) == ["v6-vm"])
        #expect(try await cloud.pool.addresses(family: .ipv4, for: me).map(\.id) == ["edge-u"])
        #expect(try await cloud.pool.address(id: "v6-lb", family: .ipv6, for: me) == nil)
        #expect(await world.double.requests(for: "compute.addresses.list").first?.queryValue("filter")
            == #"(labels.kubeip=reserved) AND (addressType = "EXTERNAL") AND (ipVersion != "IPV6")"#)
    }

    @Test(arguments: [false, true])
    func aSubnetWithoutPrivateGoogleAccessIsWarnedOfOnceAndTheSwapGoesOn(privateGoogleAccess: Bool) async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        await world.double.setPrivateGoogleAccess(privateGoogleAccess)
        let engine = try world.engine("vm-1")
        try await engine.acquire()
        try await engine.release()
        let held = try await engine.acquire()
        #expect(await world.double.accessConfigs(of: "vm-1").map(\.natIP) == [held.first?.address.ip])
        #expect(await world.double.requests(for: "compute.instances.deleteAccessConfig").count == 3)
        // Read once, before the first delete.
        let reads = await world.double.requests(for: "compute.subnetworks.get")
        #expect(reads.map(\.method) == ["GET"])
        #expect(reads.map(\.status) == [200])
        #expect(reads.first?.path == "projects/kubeip-sim/regions/europe-west1/subnetworks/default")
        let firstDelete = try #require(await world.double.requests(for: "compute.instances.deleteAccessConfig").first)
        #expect(try #require(reads.first).sequence < firstDelete.sequence)
        let warnings = world.logs.lines.filter { $0.hasPrefix("warning the VM will reach the Compute API only through Cloud NAT") }
        #expect(warnings.count == (privateGoogleAccess ? 0 : 1))
        if !privateGoogleAccess {
            #expect(warnings.first?.contains("enable Private Google Access on projects/kubeip-sim/regions/europe-west1/subnetworks/default to be safe") == true)
        }
    }

    @Test func aMissingAddressUseGrantRefusesBeforeNic0IsTouched() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        let before = await world.double.accessConfigs(of: "vm-1")
        #expect(before.first?.isEphemeral == true)
        await world.double.deny(permission: "compute.addresses.use")
        await #expect {
            try await world.engine("vm-1").acquire()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .permissionDenied && error?.resource == "compute.addresses.use" && error?.exitCode == 77
                && error?.message.contains("nic0 of vm-1 was left as it is") == true
        }
        #expect(await world.double.accessConfigs(of: "vm-1") == before)
        #expect(await world.double.requests(for: "compute.instances.deleteAccessConfig").isEmpty)
        #expect(await world.double.requests(for: "compute.instances.addAccessConfig").isEmpty)
        let check = try #require(await world.double.requests(for: "compute.addresses.testIamPermissions").first)
        #expect(check.method == "POST")
        #expect(check.status == 200)
        #expect(["edge-a", "edge-b"].contains {
            check.path == "projects/kubeip-sim/regions/europe-west1/addresses/\($0)/testIamPermissions"
        })
        #expect(check.bodyText == #"{"permissions":["compute.addresses.use"]}"#)
        // Granted, the swap goes on; the check is made once per process.
        await world.double.allow(permission: "compute.addresses.use")
        let engine = try world.engine("vm-1")
        try await engine.acquire()
        try await engine.release()
        try await engine.acquire()
        #expect(await world.double.requests(for: "compute.addresses.testIamPermissions").count == 2)
        #expect(await world.double.accessConfigs(of: "vm-1").first?.isEphemeral == false)
    }

    @Test func poolAddressesCarryHolderAndOrderFields() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        await world.double.createInstance(name: "vm-2")
        await world.double.attachAddress("edge-b", to: "vm-2")
        let cloud = try world.adapter("vm-1")
        let me = try await cloud.identity.identity()
        #expect(me.interfaceID == "projects/kubeip-sim/zones/europe-west1-b/instances/vm-1")
        #expect(me.region == "europe-west1")
        let pool = try await cloud.pool.addresses(family: .ipv4, for: me)
        #expect(pool.count == 2)
        #expect(pool[0].holder == nil)
        #expect(pool[0].fields["name"] == "edge-a")
        #expect(pool[0].fields["address"] == "35.200.0.1")
        #expect(pool[0].fields["labels.kubeip"] == "reserved")
        #expect(pool[0].fields["creationTimestamp"] != nil)
        #expect(pool[1].holder == AddressHolder(interfaceID: "projects/kubeip-sim/zones/europe-west1-b/instances/vm-2",
                                                instanceID: "vm-2"))
        #expect(try await cloud.pool.address(id: "other", family: .ipv4, for: me) == nil)
        #expect(try await cloud.pool.address(id: "gone", family: .ipv4, for: me) == nil)
        #expect(try await cloud.pool.address(id: "edge-a", family: .ipv6, for: me) == nil)
        #expect(try await cloud.pool.address(id: "edge-a", family: .ipv4, for: me)?.ip == "35.200.0.1")
    }

    @Test func anAddressHeldAfterARestartIsAdoptedWithOneCall() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        await world.double.attachAddress("edge-b", to: "vm-1")
        let held = try await world.engine("vm-1").acquire()
        #expect(held.first?.address.id == "edge-b")
        #expect(held.first?.adopted == true)
        #expect(await world.computeCalls() == ["compute.addresses.list"])
    }

    @Test func ipv6ClaimUsesUpdateNetworkInterfaceWithTheFingerprint() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "v6-a", ip: "2600:1900:4041:a00::", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-6", stackType: "IPV4_IPV6", withEphemeralIPv6: true)
        let ipv4Before = await world.double.accessConfigs(of: "vm-6")
        let held = try await world.engine("vm-6", families: [.ipv6]).acquire()
        #expect(held.map(\.address.id) == ["v6-a"])
        let v6 = await world.double.ipv6AccessConfigs(of: "vm-6")
        #expect(v6.map(\.externalIpv6) == ["2600:1900:4041:a00::"])
        #expect(v6.first?.externalIpv6PrefixLength == 96)
        #expect(v6.first?.isEphemeral == false)
        #expect(await world.double.accessConfigs(of: "vm-6") == ipv4Before)
        let updates = await world.double.requests(for: "compute.instances.updateNetworkInterface")
        #expect(updates.count == 1)
        #expect(updates[0].body?["fingerprint"]?.stringValue?.isEmpty == false)
        #expect(updates[0].body?["ipv6AccessConfigs"]?[0]?["type"]?.stringValue == "DIRECT_IPV6")
        #expect(updates[0].body?["ipv6AccessConfigs"]?[0]?["externalIpv6PrefixLength"]?.intValue == 96)
        let lists = await world.double.requests(for: "compute.addresses.list")
        #expect(lists.first?.queryValue("filter") == #"(labels.kubeip=reserved) AND (addressType = "EXTERNAL") AND (ipVersion = "IPV6")"#)
        #expect(await world.computeCalls() == [
            "compute.addresses.list", "compute.addresses.get", "compute.instances.get",
            "compute.addresses.testIamPermissions",
            "compute.instances.deleteAccessConfig", "compute.zoneOperations.wait", "compute.instances.get",
            "compute.instances.updateNetworkInterface", "compute.zoneOperations.wait", "compute.addresses.list",
        ])
    }

    @Test func anIPv4OnlyInterfaceCannotClaimIPv6() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "v6-a", ip: "2600:1900:4041:a00::", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-4")
        await #expect {
            try await world.engine("vm-4", families: [.ipv6]).acquire()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .invalidSetting && error?.setting == "ip-families"
        }
        #expect(await world.double.requests(for: "compute.instances.updateNetworkInterface").isEmpty)
        #expect(await world.double.accessConfigs(of: "vm-4").count == 1)
    }

    @Test func dualStackHoldsOneAddressOfEachFamily() async throws {
        let world = await Self.world()
        await world.double.reserveAddress(name: "v6-a", ip: "2600:1900:4041:a00::", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-d", stackType: "IPV4_IPV6", withEphemeralIPv6: true)
        let held = try await world.engine("vm-d", families: [.ipv4, .ipv6]).acquire()
        #expect(held.map(\.family) == [.ipv4, .ipv6])
        #expect(await world.double.accessConfigs(of: "vm-d").map(\.natIP) == [held[0].address.ip])
        #expect(await world.double.ipv6AccessConfigs(of: "vm-d").map(\.externalIpv6) == [held[1].address.ip])
        #expect(held[1].address.id == "v6-a")
    }

    @Test func theConnectivityGapAfterTheDeleteIsSurvived() async throws {
        let world = await Self.world { $0.connectivityGap = .duration(.seconds(25)) }
        await world.double.createInstance(name: "vm-1")
        let held = try await world.engine("vm-1").acquire()
        #expect(await world.double.accessConfigs(of: "vm-1").map(\.natIP) == [held[0].address.ip])
        let failed = await world.double.requests.filter { $0.service == .compute && $0.status == nil }
        #expect(failed.count >= 3)
        #expect(world.clock.elapsed >= .seconds(25))
    }

    @Test func losingEveryCandidatePutsAnEphemeralAddressBack() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-1")
        await world.double.createInstance(name: "vm-2")
        let ephemeral = await world.double.accessConfigs(of: "vm-1").first?.natIP
        // vm-2 takes the address after vm-1 saw it RESERVED and emptied its interface.
        try await Self.lose("edge-a", in: world, from: "vm-1", to: "vm-2")
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.count == 1)
        #expect(configs.first?.isEphemeral == true)
        #expect(configs.first?.natIP != "35.200.0.1")
        // The original ephemeral address is asked for first; released, it is gone (400), so a new one comes.
        let adds = await world.double.requests(for: "compute.instances.addAccessConfig")
        #expect(adds.map { $0.body?["natIP"]?.stringValue } == ["35.200.0.1", ephemeral, nil])
        #expect(adds.map(\.status) == [200, 400, 200])
        let operations = await world.double.allOperations().filter { $0.operationType == "addAccessConfig" }
        #expect(operations.first?.errors.first?.code == "IP_IN_USE_BY_ANOTHER_RESOURCE")
    }

    @Test func aStaticAddressFromOutsideThePoolIsPutBackWhenNoPoolAddressCouldBeHad() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        await world.double.reserveAddress(name: "mine", ip: "35.200.0.77", networkTier: "STANDARD")
        await world.double.createInstance(name: "vm-1")
        await world.double.createInstance(name: "vm-2")
        await world.double.attachAddress("mine", to: "vm-1")
        try await Self.lose("edge-a", in: world, from: "vm-1", to: "vm-2")
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.map(\.natIP) == ["35.200.0.77"])
        #expect(configs.first?.isEphemeral == false)
        #expect(configs.first?.networkTier == "STANDARD")
        #expect(configs.first?.name == "External NAT")
        #expect(await world.double.address("mine")?.users == [await world.selfLink("vm-1")])
        let adds = await world.double.requests(for: "compute.instances.addAccessConfig")
        #expect(adds.map { $0.body?["natIP"]?.stringValue } == ["35.200.0.1", "35.200.0.77"])
        #expect(adds.last?.body?["networkTier"]?.stringValue == "STANDARD")
    }

    @Test func aStaticIPv6RangeFromOutsideThePoolIsPutBackToo() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "v6-a", ip: "2600:1900:4041:a00::", labels: ["kubeip": "reserved"])
        await world.double.reserveAddress(name: "mine6", ip: "2600:1900:4041:f00::")
        await world.double.createInstance(name: "vm-6", stackType: "IPV4_IPV6")
        await world.double.createInstance(name: "vm-7", stackType: "IPV4_IPV6")
        await world.double.attachAddress("mine6", to: "vm-6")
        try await Self.lose("v6-a", in: world, from: "vm-6", to: "vm-7", family: .ipv6)
        let v6 = await world.double.ipv6AccessConfigs(of: "vm-6")
        #expect(v6.map(\.externalIpv6) == ["2600:1900:4041:f00::"])
        #expect(v6.first?.isEphemeral == false)
        #expect(await world.double.address("mine6")?.status == "IN_USE")
    }

    @Test func anAttachFailingAfterTheDeletePutsAnEphemeralAddressBackThenRetries() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-1")
        let ephemeral = await world.double.accessConfigs(of: "vm-1").first?.natIP
        // Longer than the swap's retries: the static add gives up.
        await world.double.injectTransportFailure(count: 11, matching: "/addAccessConfig")
        let held = try await world.engine("vm-1").acquire()
        #expect(held.first?.address.id == "edge-a")
        let adds = await world.double.requests(for: "compute.instances.addAccessConfig")
        let answered = adds.filter { $0.status != nil }.map { $0.body?["natIP"]?.stringValue }
        // An ephemeral address came back (the original one first: gone) before the engine waited and tried again.
        #expect(answered == [ephemeral, nil, "35.200.0.1"])
        #expect(await world.double.accessConfigs(of: "vm-1").map(\.natIP) == ["35.200.0.1"])
    }

    @Test func aRoundWithoutAnAddressReadsNic0AgainAndPutsBackWhatSomeoneElseRemoved() async throws {
        let (world, cloud, me, edgeA) = try await Self.vm1()
        try await cloud.pool.attach(edgeA, to: me)
        _ = try await cloud.pool.claimRound(family: .ipv4, for: me) { edgeA }
        // Our access config goes away behind our back.
        try await world.removeAccessConfig(of: "vm-1")
        #expect(await world.double.accessConfigs(of: "vm-1").isEmpty)
        await world.double.clearRequests()
        _ = try await cloud.pool.claimRound(family: .ipv4, for: me) { nil }
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.count == 1)
        #expect(configs.first?.isEphemeral == true)
        #expect(await world.computeCalls().first == "compute.instances.get")
        #expect(await world.computeCalls().last == "compute.zoneOperations.wait")
        // With nic0 as it should be, the round's end costs the one read.
        await world.double.clearRequests()
        _ = try await cloud.pool.claimRound(family: .ipv4, for: me) { nil }
        #expect(await world.computeCalls() == ["compute.instances.get"])
        _ = try await cloud.pool.claimRound(family: .ipv4, for: me) { edgeA }
        #expect(await world.computeCalls() == ["compute.instances.get"])
    }

    @Test func thePutBackWaitsOutAConnectivityGapOfAboutAMinute() async throws {
        let (world, cloud, me, edgeA) = try await Self.vm1 { $0.connectivityGap = .duration(.seconds(100)) }
        // The swap gives up (its wait for the delete is cut off) before the gap ends.
        await #expect {
            try await cloud.pool.attach(edgeA, to: me)
        } throws: { ($0 as? KubeIPError)?.code == .unavailable }
        #expect(world.clock.elapsed < .seconds(100))
        _ = try await cloud.pool.claimRound(family: .ipv4, for: me) { nil }
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.count == 1)
        #expect(configs.first?.isEphemeral == true)
    }

    @Test func aPutBackThatCannotReachTheAPISaysSoNamingTheVM() async throws {
        let (world, cloud, me, edgeA) = try await Self.vm1 { $0.connectivityGap = .duration(.seconds(3600)) }
        await #expect {
            try await cloud.pool.attach(edgeA, to: me)
        } throws: { ($0 as? KubeIPError)?.code == .unavailable }
        await world.double.clearRequests()
        let start = world.clock.elapsed
        await #expect {
            _ = try await cloud.pool.claimRound(family: .ipv4, for: me) { nil }
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .unavailable
                && error?.message.hasPrefix("nic0 of vm-1 has no external IPv4 address and the Compute API cannot be reached") == true
                && error?.message.contains("enable Private Google Access on projects/kubeip-sim/regions/europe-west1/subnetworks/default") == true
                && error?.resource == "projects/kubeip-sim/zones/europe-west1-b/instances/vm-1"
        }
        // Bounded: the swap's budget (ten retries, about a minute), then the error.
        let spent = world.clock.elapsed - start
        #expect(spent >= .seconds(30) && spent <= .seconds(80))
        #expect(await world.double.requests.filter { $0.service == .compute }.count == 11)
        #expect(world.logs.lines.contains { $0.hasPrefix("error nic0 of vm-1 has no external IPv4 address") })
        #expect(await world.double.accessConfigs(of: "vm-1").isEmpty)
    }

    @Test func theNextCandidateAfterALostRaceSkipsTheDelete() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        await world.double.createInstance(name: "vm-2")
        let double = world.double
        let cloud = try world.adapter("vm-1")
        let me = try await cloud.identity.identity()
        let pool = try await cloud.pool.addresses(family: .ipv4, for: me)
        let first = try #require(pool.first { $0.id == "edge-a" })
        let second = try #require(pool.first { $0.id == "edge-b" })
        let takeIt = Once("/addAccessConfig") { await double.attachAddress("edge-a", to: "vm-2") }
        let racing = try world.adapter("vm-1", interpose: { await takeIt($0) })
        await #expect {
            try await racing.pool.attach(first, to: me)
        } throws: { ($0 as? KubeIPError)?.code == .conflict }
        #expect(await world.double.accessConfigs(of: "vm-1").isEmpty)
        await world.double.clearRequests()
        try await racing.pool.attach(second, to: me)
        #expect(await world.computeCalls() == ["compute.addresses.get", "compute.instances.addAccessConfig",
                                               "compute.zoneOperations.wait"])
        #expect(await world.double.accessConfigs(of: "vm-1").map(\.natIP) == ["35.200.0.2"])
    }

    @Test func sixVMsRaceForThreeAddressesWithoutALock() async throws {
        let world = GCEWorld { $0.operationDelay = .seconds(2) }
        for (n, ip) in ["35.200.0.1", "35.200.0.2", "35.200.0.3"].enumerated() {
            await world.double.reserveAddress(name: "edge-\(n)", ip: ip, labels: ["kubeip": "reserved"])
        }
        let vms = (1...6).map { "vm-\($0)" }
        for vm in vms { await world.double.createInstance(name: vm) }
        // Every VM lists the pool (all three free) before any of them goes for an address.
        let barrier = Barrier(parties: vms.count)
        let engines = try vms.map { vm in
            let first = Once("/addresses/") { await barrier.arrive() }
            return try world.engine(vm, retryAttempts: 2, orderBy: "name", interpose: { await first($0) })
        }
        let outcomes = await withTaskGroup(of: (Int, String?).self) { group in
            for (index, engine) in engines.enumerated() {
                group.addTask {
                    do { return (index, try await engine.acquire().first?.address.id) } catch { return (index, nil) }
                }
            }
            var results: [Int: String?] = [:]
            for await (index, id) in group { results[index] = id }
            return results
        }
        let winners = outcomes.values.compactMap { $0 }
        #expect(winners.count == 3)
        #expect(Set(winners) == ["edge-0", "edge-1", "edge-2"])
        for name in ["edge-0", "edge-1", "edge-2"] {
            let address = try #require(await world.double.address(name))
            #expect(address.status == "IN_USE")
            #expect(address.users.count == 1)
        }
        var statics = 0
        for vm in vms {
            let configs = await world.double.accessConfigs(of: vm)
            #expect(configs.count == 1, "\(vm) must keep exactly one IPv4 access config")
            #expect(configs.first?.natIP != nil)
            statics += configs.filter { !$0.isEphemeral }.count
        }
        #expect(statics == 3)
        // The races were real: every VM went for an address, losing at addresses.get or when the
        // API refused the address in its operation, as scheduling decides.
        for vm in vms {
            #expect(await world.double.requests(for: "compute.addresses.get").contains { $0.instance == vm })
        }
    }

    @Test func aStaleFingerprintIsReadAgainAndRetried() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "v6-a", ip: "2600:1900:4041:a00::", labels: ["kubeip": "reserved"])
        await world.double.reserveAddress(name: "v4-x", ip: "35.200.0.50")
        await world.double.createInstance(name: "vm-6", stackType: "IPV4_IPV6", withEphemeralIPv6: true)
        let double = world.double
        // Something else changes nic0 between our read and our update.
        let change = Once("/updateNetworkInterface") { await double.attachAddress("v4-x", to: "vm-6") }
        let engine = try world.engine("vm-6", families: [.ipv6], interpose: { await change($0) })
        let held = try await engine.acquire()
        #expect(held.first?.address.id == "v6-a")
        let updates = await world.double.requests(for: "compute.instances.updateNetworkInterface")
        #expect(updates.map(\.status) == [412, 200])
        #expect(await world.double.ipv6AccessConfigs(of: "vm-6").map(\.externalIpv6) == ["2600:1900:4041:a00::"])
    }

    @Test func releaseDetachesAndPutsAnEphemeralAddressBack() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        let engine = try world.engine("vm-1")
        let held = try await engine.acquire()
        try await engine.release()
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.count == 1)
        #expect(configs.first?.isEphemeral == true)
        #expect(await world.double.address(held[0].address.id)?.status == "RESERVED")
        // Detaching again is a no-op.
        try await world.adapter("vm-1").pool.detach(held[0].address, from: try await engine.discover())
    }

    @Test func aReleaseWhoseDeleteWasCutOffNeverPutsTheReleasedAddressBack() async throws {
        let (world, cloud, me, edgeA) = try await Self.vm1()
        try await cloud.pool.attach(edgeA, to: me)
        // The delete happens, but every answer after it is lost for longer than the swap waits.
        await world.double.setConnectivityGap(.requests(11))
        await #expect {
            try await cloud.pool.detach(edgeA, from: me)
        } throws: { ($0 as? KubeIPError)?.code == .unavailable }
        #expect(await world.double.accessConfigs(of: "vm-1").isEmpty)
        await world.double.setConnectivityGap(nil)
        await world.double.clearRequests()
        _ = try await cloud.pool.claimRound(family: .ipv4, for: me) { nil }
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.count == 1)
        #expect(configs.first?.isEphemeral == true)
        #expect(await world.double.address("edge-a")?.status == "RESERVED")
        let adds = await world.double.requests(for: "compute.instances.addAccessConfig")
        #expect(adds.map { $0.body?["natIP"]?.stringValue } == [nil])
    }

    @Test func releasingAnIPv6AddressPutsAnEphemeralRangeBack() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "v6-a", ip: "2600:1900:4041:a00::", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-6", stackType: "IPV4_IPV6", withEphemeralIPv6: true)
        let engine = try world.engine("vm-6", families: [.ipv6])
        try await engine.acquire()
        try await engine.release()
        let v6 = await world.double.ipv6AccessConfigs(of: "vm-6")
        #expect(v6.count == 1)
        #expect(v6.first?.isEphemeral == true)
        #expect(await world.double.address("v6-a")?.status == "RESERVED")
    }

    @Test func throttlingHonoursRetryAfterOnTheClock() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        await world.double.injectFailure(status: 429, retryAfter: 5, count: 2, matching: "/addresses")
        let held = try await world.engine("vm-1").acquire()
        #expect(held.count == 1)
        #expect(Array(world.clock.sleeps.prefix(2)) == [.seconds(5), .seconds(5)])
    }

    @Test func filterAndOrderArePassedThroughExactly() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        _ = try await world.engine("vm-1", filter: "labels.kubeip = \"reserved\"; name != edge-a",
                                   orderBy: "creationTimestamp desc").acquire()
        let list = try #require(await world.double.requests(for: "compute.addresses.list").first)
        #expect(list.queryValue("filter")
            == #"(labels.kubeip = "reserved") AND (name != edge-a) AND (addressType = "EXTERNAL") AND (ipVersion != "IPV6")"#)
        #expect(list.queryValue("orderBy") == "creationTimestamp desc")
        #expect(await world.double.accessConfigs(of: "vm-1").map(\.natIP) == ["35.200.0.2"])
    }

    @Test func aFilterTheAPIRefusesIsAnInvalidSettingAndChangesNothing() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        let before = await world.double.accessConfigs(of: "vm-1")
        await #expect {
            try await world.engine("vm-1", filter: "labels.kubeip < reserved").acquire()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .invalidSetting && error?.setting == "filter" && error?.exitCode == 78
        }
        #expect(await world.computeCalls() == ["compute.addresses.list"])
        #expect(await world.double.accessConfigs(of: "vm-1") == before)
    }

    @Test func aMissingPermissionNamesItAndTheInterfaceIsRestored() async throws {
        let world = await Self.world()
        await world.double.createInstance(name: "vm-1")
        await world.double.deny(permission: "compute.addresses.list")
        await #expect {
            try await world.engine("vm-1").acquire()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .permissionDenied && error?.resource == "compute.addresses.list" && error?.exitCode == 77
        }
    }
}

/// `response` (an address or a page of them, as JSON) with `change` made to the address named `name`.
func amendAddress(_ name: String, in response: HTTPResponse,
                  _ change: @escaping (inout [String: Any]) -> Void) throws -> HTTPResponse {
    guard response.status == 200, var object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
        return response
    }
    func amend(_ item: Any) -> Any {
        guard var address = item as? [String: Any], address["name"] as? String == name else { return item }
        change(&address)
        return address
    }
    if let items = object["items"] as? [Any] { object["items"] = items.map(amend) } else { object = amend(object) as! [String: Any] }
    return HTTPResponse(status: 200, headers: response.headers, body: Array(try JSONSerialization.data(withJSONObject: object)))
}
