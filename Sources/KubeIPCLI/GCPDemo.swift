import KubeIPCore
import KubeIPGCP
import KubeIPSimulator
import Logging

extension Demo {
    /// `kubeip demo --cloud gcp`: the real engine and the real GCP adapter against the in-memory
    /// Compute Engine double (metadata server, Compute v1, operations, IN_USE conflicts, and a
    /// connectivity gap after each VM's ephemeral address goes away).
    @discardableResult
    public func runGCP() async throws -> [String: [String]] {
        let double = ComputeEngineDouble(configuration: .init(connectivityGap: .requests(2)))
        let quiet = Logger(label: "kubeip.demo", factory: { _ in SwiftLogNoOpLogHandler() })
        write("kubeip demo --cloud gcp: the real engine and GCP adapter against an in-memory Compute Engine.")
        write("")
        write("1. The pool: three static external IPv4 addresses and one IPv6 range labelled env=prod,")
        write("   and one address labelled env=dev that is not ours.")
        for i in 0..<3 {
            await double.reserveAddress(name: "edge-\(i + 1)", ip: "198.51.100.\(20 + i)", labels: ["env": "prod"])
        }
        await double.reserveAddress(name: "edge-v6", ip: "2001:db8:1:2::", labels: ["env": "prod"], ipVersion: "IPV6")
        await double.reserveAddress(name: "dev-1", ip: "203.0.113.60", labels: ["env": "dev"])
        for address in await double.allAddresses() {
            write("    \(address.name)  \(address.address)\(address.isIPv6 ? "/96" : "")  env=\(address.labels["env"] ?? "")")
        }

        write("")
        write("2. Four VMs boot at once, each with an ephemeral external IP; three static IPv4 addresses to share.")
        write("   Each VM picks a candidate and checks it is still RESERVED before touching its own access config;")
        write("   then it swaps ephemeral for static back to back. Right after the swap starts, each VM's egress")
        write("   drops for a moment (its ephemeral IP is gone): kubeip retries through the gap.")
        let vms = ["vm-a", "vm-b", "vm-c", "vm-d"]
        for vm in vms { await double.createInstance(name: vm) }
        let settings = EngineSettings(retryInterval: retryInterval, retryAttempts: 1)
        var engines: [String: AddressEngine] = [:]
        for vm in vms {
            let cloud = try GCPCloud.make(filter: "labels.env=prod", orderBy: nil, project: nil, region: nil,
                                          families: [.ipv4], environment: [:], http: double.client(for: vm),
                                          logger: quiet)
            engines[vm] = AddressEngine(cloud: cloud, settings: settings, observer: Narrator(name: vm, write: write),
                                        logger: quiet)
        }
        let booting = engines
        await withTaskGroup(of: Void.self) { group in
            for (_, engine) in booting { group.addTask { _ = try? await engine.acquire() } }
        }
        write("   External IPs now:")
        var result: [String: [String]] = [:]
        for vm in vms {
            let ips = await double.accessConfigs(of: vm).compactMap(\.natIP)
            let statics = await double.allAddresses().filter { ips.contains($0.address) }.map(\.name)
            result[vm] = ips
            write("    \(vm)  \(ips.joined(separator: ", "))  \(statics.isEmpty ? "(ephemeral, put back: every static address was taken)" : "(static \(statics.joined()))")")
        }

        write("")
        write("3. A dual-stack VM asks for both families (ip-families: ipv4,ipv6). One IPv4 address is freed")
        write("   first, so both can be had.")
        await double.createInstance(name: "vm-dual", stackType: "IPV4_IPV6", withEphemeralIPv6: true)
        if let holder = vms.first(where: { result[$0]?.first?.hasPrefix("198.51.100.") == true }) {
            write("   \(holder) releases its address (it shuts down with release-on-exit: shutdown):")
            try await engines[holder]!.release()
        }
        let dual = try GCPCloud.make(filter: "labels.env=prod", orderBy: nil, project: nil, region: nil,
                                     families: [.ipv4, .ipv6], environment: [:], http: double.client(for: "vm-dual"),
                                     logger: quiet)
        let dualEngine = AddressEngine(cloud: dual, settings: EngineSettings(families: [.ipv4, .ipv6]),
                                       observer: Narrator(name: "vm-dual", write: write), logger: quiet)
        let held = try await dualEngine.acquire()
        result["vm-dual"] = held.map(\.address.ip)

        write("")
        write("Every VM still has an external IPv4 address; no static address is on two VMs.")
        return result
    }
}
