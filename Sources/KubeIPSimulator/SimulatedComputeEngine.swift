import KubeIPCore

/// An in-memory cloud with Compute Engine's address semantics: what `kubeip demo --cloud gcp`
/// runs the engine against.
///
/// It keeps what a GCE claim depends on, not the API's shape (the strict Compute v1 double is
/// test support, outside the shipped binary):
/// - every VM boots with nic0 holding an ephemeral external IPv4 address, and a dual-stack VM
///   an ephemeral external IPv6 range as well;
/// - nic0 holds at most one external address per family (one access config), so a static
///   address goes on only once the current one is removed: adding a second is refused;
/// - adding a static address IN_USE by another VM is refused (`IP_IN_USE_BY_ANOTHER_RESOURCE`),
///   the compare-and-set kubeip relies on;
/// - removing a static address from nic0 makes it RESERVED again; an ephemeral address removed
///   is gone for good, and adding one without an address gives a new ephemeral address;
/// - an IPv4-only VM cannot take an IPv6 range.
public actor SimulatedComputeEngine {
    /// A reserved external address or IPv6 range (an `addresses` resource).
    public struct Address: Sendable, Hashable {
        /// The resource name: the pool address's id.
        public var name: String
        /// The IPv4 address, or the first address of the /96 IPv6 range.
        public var ip: String
        /// IPv4, or IPv6 for a range.
        public var family: IPFamily
        /// Its labels, which the pool selects by (`env: prod`).
        public var labels: [String: String]
        /// The VM that uses it (by name); nil while it is RESERVED.
        public var user: String?

        /// `RESERVED` or `IN_USE`, as Compute Engine says.
        public var status: String { user == nil ? "RESERVED" : "IN_USE" }
    }

    /// An external address on nic0 (an access config).
    public struct AccessConfig: Sendable, Hashable {
        /// The external IPv4 address, or the first address of the IPv6 range.
        public var ip: String
        /// The static address's name; nil for an ephemeral address.
        public var addressName: String?

        /// Whether the address is ephemeral (gone once removed).
        public var isEphemeral: Bool { addressName == nil }
    }

    /// A VM, reduced to nic0's external addresses.
    public struct Instance: Sendable, Hashable {
        /// The VM's name: how the API and the pool name it.
        public var name: String
        /// The numeric instance id.
        public var id: String
        /// Whether nic0 is IPV4_IPV6 (else IPV4_ONLY).
        public var dualStack: Bool
        /// nic0's access configs, at most one per family.
        public var external: [IPFamily: AccessConfig]
    }

    /// The project every address and VM is in.
    public let project: String
    /// The region of the addresses.
    public let region: String
    /// The zone of the VMs.
    public let zone: String
    private let latency: Duration
    private let clock: any WallClock
    private var addresses: [String: Address] = [:]
    private var addressOrder: [String] = []
    private var instances: [String: Instance] = [:]
    private var instanceOrder: [String] = []
    private var instanceSerial = 0
    private var ephemeralSerial = 0

    /// - Parameters:
    ///   - latency: how long each API call takes on `clock` before it acts, so that concurrent
    ///     claimers overlap between reading and swapping as they do against the real API.
    public init(project: String = "kubeip-demo", region: String = "europe-west1", zone: String = "europe-west1-b",
                latency: Duration = .zero, clock: any WallClock = SystemClock()) {
        self.project = project
        self.region = region
        self.zone = zone
        self.latency = latency
        self.clock = clock
    }

    // MARK: Setup and inspection

    /// Creates a VM whose nic0 has an ephemeral external IPv4 address (and IPv6 range when `dualStack`).
    @discardableResult
    public func createInstance(_ name: String, dualStack: Bool = false) -> Instance {
        instanceSerial += 1
        var instance = Instance(name: name, id: String(4_700_000_000_000_000_000 + instanceSerial), dualStack: dualStack,
                                external: [.ipv4: ephemeral(.ipv4)])
        if dualStack { instance.external[.ipv6] = ephemeral(.ipv6) }
        instances[name] = instance
        instanceOrder.append(name)
        return instance
    }

    /// Reserves a static external address (an IPv6 `ip` is the start of a /96 range).
    public func reserveAddress(_ name: String, ip: String, family: IPFamily = .ipv4, labels: [String: String] = [:]) {
        if addresses[name] == nil { addressOrder.append(name) }
        addresses[name] = Address(name: name, ip: ip, family: family, labels: labels)
    }

    /// Every reserved address, in reservation order (the whole truth, for assertions).
    public func allAddresses() -> [Address] { addressOrder.compactMap { addresses[$0] } }

    /// Every VM, in creation order.
    public func allInstances() -> [Instance] { instanceOrder.compactMap { instances[$0] } }

    /// One VM as it is now.
    public func instance(_ name: String) -> Instance? { instances[name] }

    // MARK: API (what the pool calls)

    /// addresses.list: the addresses of `family` carrying every one of `labels`.
    public func listAddresses(family: IPFamily, labels: [String: String]) async throws -> [Address] {
        try await enter()
        return allAddresses().filter { address in
            address.family == family && labels.allSatisfy { address.labels[$0.key] == $0.value }
        }
    }

    /// addresses.get.
    public func getAddress(_ name: String) async throws -> Address {
        try await enter()
        guard let address = addresses[name] else {
            throw KubeIPError(.notFound, "address \(name) does not exist", resource: name)
        }
        return address
    }

    /// instances.get.
    public func getInstance(_ name: String) async throws -> Instance {
        try await enter()
        return try existing(name)
    }

    /// Removes nic0's access config of `family` (deleteAccessConfig, or updateNetworkInterface
    /// for IPv6): a static address becomes RESERVED again, an ephemeral one is gone.
    public func deleteAccessConfig(instance name: String, family: IPFamily) async throws {
        try await enter()
        var instance = try existing(name)
        guard let config = instance.external.removeValue(forKey: family) else {
            throw KubeIPError(.notFound, "nic0 of \(name) has no external \(family.rawValue) access config", resource: name)
        }
        if let reserved = config.addressName { addresses[reserved]?.user = nil }
        instances[name] = instance
    }

    /// Adds an access config of `family` to nic0 (addAccessConfig, or updateNetworkInterface for
    /// IPv6): with `ip`, the static address reserved there; without, a new ephemeral address.
    /// Refused with `.conflict` when nic0 has one of that family already, or when the static
    /// address is IN_USE by another VM.
    public func addAccessConfig(instance name: String, family: IPFamily, ip: String? = nil) async throws {
        try await enter()
        var instance = try existing(name)
        if family == .ipv6 && !instance.dualStack {
            throw KubeIPError.invalid("ip-families",
                                      "nic0 of \(name) is IPv4 only (stackType IPV4_ONLY) and cannot take an IPv6 range")
        }
        if let current = instance.external[family] {
            throw KubeIPError(.conflict, "nic0 of \(name) has an external \(family.rawValue) access config already (\(current.ip))",
                              resource: name)
        }
        guard let ip else {
            instance.external[family] = ephemeral(family)
            instances[name] = instance
            return
        }
        guard let address = allAddresses().first(where: { $0.ip == ip && $0.family == family }) else {
            throw KubeIPError(.notFound, "\(ip) is not a reserved \(family.rawValue) address", resource: ip)
        }
        if let user = address.user, user != name {
            throw KubeIPError(.conflict, "IP_IN_USE_BY_ANOTHER_RESOURCE: \(ip) (\(address.name)) is in use by \(user)",
                              resource: address.name)
        }
        addresses[address.name]?.user = name
        instance.external[family] = AccessConfig(ip: ip, addressName: address.name)
        instances[name] = instance
    }

    // MARK: Adapters

    /// A ``CloudAdapter`` for VM `name`, selecting the pool by `labels` (every one must match).
    public nonisolated func adapter(for name: String, labels: [String: String] = [:]) -> CloudAdapter {
        CloudAdapter(name: "simulated-gce",
                     identity: SimulatedComputeEngineIdentityProvider(cloud: self, instance: name),
                     pool: SimulatedComputeEnginePool(cloud: self, labels: labels))
    }

    /// `projects/<project>/zones/<zone>/instances/<name>`: how VM `name` shows as an address's user.
    public nonisolated func selfLink(of name: String) -> String {
        "projects/\(project)/zones/\(zone)/instances/\(name)"
    }

    // MARK: Internals

    private func enter() async throws {
        if latency > .zero { try await clock.sleep(for: latency) }
    }

    private func existing(_ name: String) throws -> Instance {
        guard let instance = instances[name] else {
            throw KubeIPError(.notFound, "instance \(name) does not exist", resource: name)
        }
        return instance
    }

    /// A new ephemeral address, from the documentation ranges (192.0.2.0/24, 2001:db8::/32).
    private func ephemeral(_ family: IPFamily) -> AccessConfig {
        ephemeralSerial += 1
        switch family {
        case .ipv4: return AccessConfig(ip: "192.0.2.\(ephemeralSerial)")
        case .ipv6: return AccessConfig(ip: "2001:db8:e:\(String(ephemeralSerial, radix: 16))::")
        }
    }
}
