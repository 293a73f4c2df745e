import KubeIPCore
import KubeIPSimulator
import Logging

extension Demo {
    /// `kubeip demo --cloud gcp`: the real engine against an in-memory cloud with Compute Engine's
    /// address semantics (``SimulatedComputeEngine``), narrated: four VMs race for three static
    /// IPv4 addresses, each swapping nic0's ephemeral address for a static one; the one left
    /// over gets an ephemeral address back; a release; a dual-stack VM holding both families.
    ///
    /// - Parameter cloud: an empty cloud to tell the story on; the demo reserves the addresses
    ///   and creates the VMs.
    /// - Returns: every VM's external addresses at the end (IPv4 first), for tests.
    @discardableResult
    public func runGCP(on cloud: SimulatedComputeEngine = SimulatedComputeEngine(latency: .milliseconds(15)))
        async throws -> [String: [String]] {
        let quiet = Logger(label: "kubeip.demo", factory: { _ in SwiftLogNoOpLogHandler() })
        let pool = ["env": "prod"]
        write("kubeip demo --cloud gcp: the real engine against an in-memory cloud with Compute Engine's address semantics.")
        write("")
        write("1. The pool: three static external IPv4 addresses and one IPv6 range labelled env=prod,")
        write("   and one address labelled env=dev that is not ours.")
        for i in 0..<3 { await cloud.reserveAddress("edge-\(i + 1)", ip: "198.51.100.\(20 + i)", labels: pool) }
        await cloud.reserveAddress("edge-v6", ip: "2001:db8:1:2::", family: .ipv6, labels: pool)
        await cloud.reserveAddress("dev-1", ip: "203.0.113.60", labels: ["env": "dev"])
        for address in await cloud.allAddresses() {
            write("    \(address.name)  \(address.ip)\(address.family == .ipv6 ? "/96" : "")  env=\(address.labels["env"] ?? "")")
        }

        write("")
        write("2. Four VMs boot at once, each with an ephemeral external IP on nic0; three static IPv4 addresses")
        write("   to share. Compute Engine has no \"attach if free\": a VM checks that its candidate is still")
        write("   RESERVED, removes nic0's access config (its ephemeral IP is gone for good), then adds one with")
        write("   the static address. The add is refused when another VM took the address meanwhile (IN_USE):")
        write("   that is the compare-and-set. A VM left with nothing gets a new ephemeral address back.")
        let vms = ["vm-a", "vm-b", "vm-c", "vm-d"]
        var firstIPs: [String: String] = [:]
        for vm in vms { firstIPs[vm] = await cloud.createInstance(vm).external[.ipv4]?.ip }
        let settings = EngineSettings(retryInterval: retryInterval, retryAttempts: 1)
        var engines: [String: AddressEngine] = [:]
        for vm in vms {
            engines[vm] = AddressEngine(cloud: cloud.adapter(for: vm, labels: pool), settings: settings,
                                        observer: Narrator(name: vm, write: write), logger: quiet)
        }
        let booting = engines
        await withTaskGroup(of: Void.self) { group in
            for (_, engine) in booting { group.addTask { _ = try? await engine.acquire() } }
        }
        write("   External IPv4 addresses now:")
        for vm in vms {
            guard let config = await cloud.instance(vm)?.external[.ipv4] else { continue }
            let how = if let name = config.addressName {
                "static \(name)"
            } else if config.ip != firstIPs[vm] {
                "ephemeral, put back: every static address was taken; its first one, \(firstIPs[vm] ?? "?"), is gone"
            } else {
                "ephemeral, kept: every static address was taken before it tried"
            }
            write("    \(vm)  \(config.ip)  (\(how))")
        }

        write("")
        write("3. A dual-stack VM (nic0 IPV4_IPV6) asks for both families (ip-families: ipv4,ipv6). One IPv4")
        write("   address is freed first, so both can be had.")
        var holder: String?
        for vm in vms where holder == nil {
            if await cloud.instance(vm)?.external[.ipv4]?.addressName != nil { holder = vm }
        }
        if let holder {
            write("   \(holder) releases its address (it shuts down with release-on-exit: shutdown); nic0 gets an")
            write("   ephemeral address in its place:")
            try await engines[holder]!.release()
        }
        await cloud.createInstance("vm-dual", dualStack: true)
        let dual = AddressEngine(cloud: cloud.adapter(for: "vm-dual", labels: pool),
                                 settings: EngineSettings(families: [.ipv4, .ipv6], retryInterval: retryInterval,
                                                          retryAttempts: 1),
                                 observer: Narrator(name: "vm-dual", write: write), logger: quiet)
        try await dual.acquire()

        write("")
        write("Final external addresses:")
        var result: [String: [String]] = [:]
        for instance in await cloud.allInstances() {
            let configs = IPFamily.allCases.compactMap { instance.external[$0] }
            result[instance.name] = configs.map(\.ip)
            let shown = configs.map { "\($0.ip)\($0.ip.contains(":") ? "/96" : "")  (\($0.addressName.map { "static \($0)" } ?? "ephemeral"))" }
            write("    \(instance.name)  \(shown.joined(separator: ", "))")
        }
        try Self.checkGCPInvariants(await cloud.allInstances())
        write("")
        write("Every VM still has an external IPv4 address; no static address is on two VMs.")
        write("Run it for real with `kubeip check`, then `kubeip run` (see `man kubeip`).")
        return result
    }

    /// Throws unless every VM has an external IPv4 address and no address is on two VMs.
    static func checkGCPInvariants(_ instances: [SimulatedComputeEngine.Instance]) throws {
        if let bare = instances.first(where: { $0.external[.ipv4] == nil }) {
            throw KubeIPError(.io, "the demo left \(bare.name) without an external IPv4 address")
        }
        let ips = instances.flatMap { $0.external.values.map(\.ip) }
        if Set(ips).count != ips.count {
            throw KubeIPError(.io, "the demo left an address on two VMs: \(ips.sorted().joined(separator: ", "))")
        }
    }
}
