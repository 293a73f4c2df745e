import KubeIPCore

/// Identity of a VM of a ``SimulatedComputeEngine``, shaped as the GCP adapter's: the VM's
/// self-link as the interface, its name as the human name.
public struct SimulatedComputeEngineIdentityProvider: IdentityProvider {
    let cloud: SimulatedComputeEngine
    let instance: String

    public func identity() async throws -> InstanceIdentity {
        guard let vm = await cloud.instance(instance) else {
            throw KubeIPError(.identity, "no simulated VM \(instance)", resource: instance)
        }
        return InstanceIdentity(cloud: "simulated-gce", instanceID: vm.id, region: cloud.region, zone: cloud.zone,
                                interfaceID: cloud.selfLink(of: vm.name), project: cloud.project, name: vm.name)
    }
}

/// The simulated pool, selected by labels, claimed as on Compute Engine: check the candidate is
/// still RESERVED, remove nic0's access config, add one with the static address (refused when
/// another VM took it meanwhile). A claim round that ends with nothing attached puts an
/// ephemeral address back on nic0, and so does a release: no VM is left without an external IP.
public struct SimulatedComputeEnginePool: AddressPool {
    let cloud: SimulatedComputeEngine
    let labels: [String: String]

    public func addresses(family: IPFamily, for identity: InstanceIdentity) async throws -> [PoolAddress] {
        try await cloud.listAddresses(family: family, labels: labels).map(poolAddress)
    }

    public func address(id: String, family: IPFamily, for identity: InstanceIdentity) async throws -> PoolAddress? {
        try await addresses(family: family, for: identity).first { $0.id == id }
    }

    public func attach(_ address: PoolAddress, to identity: InstanceIdentity) async throws {
        let vm = try name(of: identity)
        let current: SimulatedComputeEngine.Address
        do {
            current = try await cloud.getAddress(address.id)
        } catch let error as KubeIPError where error.code == .notFound {
            throw KubeIPError(.conflict, "\(address.ip) (\(address.id)) no longer exists", resource: address.id)
        }
        if let user = current.user {
            if user == vm { return }
            throw KubeIPError(.conflict, "\(current.ip) (\(current.name)) is IN_USE by \(user)", resource: current.name)
        }
        // No "attach if free": the current access config goes first (an earlier lost race may have removed it).
        if let config = try await cloud.getInstance(vm).external[address.family] {
            if config.ip == current.ip { return }
            try await cloud.deleteAccessConfig(instance: vm, family: address.family)
        }
        try await cloud.addAccessConfig(instance: vm, family: address.family, ip: current.ip)
    }

    public func detach(_ address: PoolAddress, from identity: InstanceIdentity) async throws {
        let vm = try name(of: identity)
        guard try await cloud.getInstance(vm).external[address.family]?.ip == address.ip else { return }
        try await cloud.deleteAccessConfig(instance: vm, family: address.family)
        try await putEphemeralBack(address.family, on: vm)
    }

    /// Runs `body`; when it attached nothing (or threw), puts an ephemeral address back on nic0
    /// if the round left it without one of `family`.
    public func claimRound(family: IPFamily, for identity: InstanceIdentity,
                           _ body: @Sendable () async throws -> PoolAddress?) async throws -> PoolAddress? {
        let vm = try name(of: identity)
        let attached: PoolAddress?
        do {
            attached = try await body()
        } catch {
            // `body`'s error is the cause; a put-back that fails as well adds nothing to it.
            try? await putEphemeralBack(family, on: vm)
            throw error
        }
        if attached == nil { try await putEphemeralBack(family, on: vm) }
        return attached
    }

    /// Adds an ephemeral access config of `family` unless nic0 has one (or, for IPv6, is IPv4 only).
    private func putEphemeralBack(_ family: IPFamily, on vm: String) async throws {
        let instance = try await cloud.getInstance(vm)
        guard instance.external[family] == nil, family == .ipv4 || instance.dualStack else { return }
        try await cloud.addAccessConfig(instance: vm, family: family)
    }

    private func name(of identity: InstanceIdentity) throws -> String {
        guard let name = identity.name else {
            throw KubeIPError(.identity, "the identity names no VM (\(identity.interfaceID))")
        }
        return name
    }

    /// The address as the engine sees it, with Compute Engine's field names for `order-by`.
    private func poolAddress(_ address: SimulatedComputeEngine.Address) -> PoolAddress {
        var fields = ["name": address.name, "address": address.ip, "status": address.status,
                      "ipVersion": address.family == .ipv4 ? "IPV4" : "IPV6"]
        for (key, value) in address.labels { fields["labels.\(key)"] = value }
        let holder = address.user.map { AddressHolder(interfaceID: cloud.selfLink(of: $0), instanceID: $0) }
        return PoolAddress(id: address.name, ip: address.ip, family: address.family, holder: holder, fields: fields)
    }
}
