@testable import KubeIPCLI
import KubeIPCore
@testable import KubeIPSimulator
import Synchronization
import Testing

@Suite struct DemoTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func demoTellsTheWholeStoryAndEndsConsistent() async throws {
        let output = Lines()
        let final = try await Demo(retryInterval: .milliseconds(50), write: { output.append($0) }).run()
        // Four addresses, six instances: four holders, each with a distinct address.
        #expect(final.count == 4)
        #expect(Set(final.values).count == 4)
        let text = output.all.joined(separator: "\n")
        #expect(text.contains("holding 198.51.100."))
        // The two losers wait: either nothing was free at their look, or what was went to others first.
        #expect(text.contains("waiting: no free ipv4 address in pool of 4")
                || text.contains("of the pool of 4 went to other instances first"))
        #expect(text.contains("attach calls during the restart: 0"))
        #expect(text.contains("released 198.51.100."))
        #expect(text.contains("lost 198.51.100."))
        #expect(!text.contains("203.0.113.50  held"))
    }
}

@Suite struct GCPDemoTests {
    @Test func everyVMKeepsAnExternalIPv4AndNoStaticIsShared() async throws {
        let output = DemoTests.Lines()
        let cloud = SimulatedComputeEngine(latency: .milliseconds(15))
        let result = try await Demo(retryInterval: .milliseconds(50), write: { output.append($0) }).runGCP(on: cloud)
        let instances = await cloud.allInstances()
        #expect(instances.map(\.name) == ["vm-a", "vm-b", "vm-c", "vm-d", "vm-dual"])
        // Every VM has exactly one external IPv4 address, and no address is on two VMs.
        for instance in instances {
            #expect(instance.external[.ipv4] != nil, "\(instance.name) must have an external IPv4")
            #expect(result[instance.name]?.filter { !$0.contains(":") }.count == 1)
        }
        let ips = instances.flatMap { $0.external.values.map(\.ip) }
        #expect(Set(ips).count == ips.count)
        // The cloud agrees: each static address in use is on its user's nic0, and only there.
        for address in await cloud.allAddresses() {
            let on = instances.filter { $0.external[address.family]?.ip == address.ip }.map(\.name)
            #expect(on == address.user.map { [$0] } ?? [], "\(address.name) is on \(on)")
        }
        #expect(try await cloud.getAddress("dev-1").user == nil)
        // Three statics went to three racers; one released its own to the dual-stack VM, which holds both families.
        let racers = instances.filter { $0.name != "vm-dual" }
        #expect(racers.filter { $0.external[.ipv4]?.isEphemeral == true }.count == 2)
        #expect(result["vm-dual"] == [try #require(await cloud.instance("vm-dual")?.external[.ipv4]?.ip), "2001:db8:1:2::"])
        #expect(await cloud.instance("vm-dual")?.external[.ipv4]?.addressName != nil)

        let text = output.all.joined(separator: "\n")
        #expect(text.contains("was taken by another instance"))
        // The racer left over had removed its ephemeral address before losing (put back), unless
        // every address was taken before it looked (kept).
        #expect(text.contains("(ephemeral, put back") || text.contains("(ephemeral, kept"))
        #expect(text.contains("released 198.51.100."))
        #expect(text.contains("[vm-dual] holding 2001:db8:1:2:: (edge-v6)"))
        #expect(text.contains("Every VM still has an external IPv4 address; no static address is on two VMs."))
    }

    @Test func theInvariantCheckRefusesABareVMOrASharedAddress() throws {
        let bare = SimulatedComputeEngine.Instance(name: "vm-1", id: "1", dualStack: false, external: [:])
        #expect(throws: KubeIPError.self) { try Demo.checkGCPInvariants([bare]) }
        let config = SimulatedComputeEngine.AccessConfig(ip: "198.51.100.1", addressName: "edge-1")
        let one = SimulatedComputeEngine.Instance(name: "vm-1", id: "1", dualStack: false, external: [.ipv4: config])
        let two = SimulatedComputeEngine.Instance(name: "vm-2", id: "2", dualStack: false, external: [.ipv4: config])
        #expect(throws: KubeIPError.self) { try Demo.checkGCPInvariants([one, two]) }
        try Demo.checkGCPInvariants([one])
    }
}
