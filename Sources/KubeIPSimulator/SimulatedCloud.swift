import KubeIPCore

/// An in-memory cloud with Elastic IP semantics: the test double behind the unit tests,
/// `cloud: simulated` and `kubeip demo`.
///
/// It enforces what EC2 enforces, not what is convenient: an attach with reassociation
/// disallowed fails with a conflict when another interface holds the address; an
/// interface holds at most one address per family (attaching a second replaces the first,
/// as EC2 does for a primary private IP); detaching needs the current association; a
/// terminated instance loses its addresses. Faults can be injected per operation.
public actor SimulatedCloud {
    /// One cloud operation, for call counting and fault injection.
    public enum Operation: String, Sendable, CaseIterable {
        case describe, associate, disassociate
    }

    struct Allocation {
        var id: String
        var ip: String
        var family: IPFamily
        var tags: [String: String]
        var association: (interface: String, instance: String, id: String)?
    }

    /// A simulated instance.
    public struct Instance: Sendable {
        public var identity: InstanceIdentity
        public var running: Bool
    }

    public let region: String
    private let latency: Duration
    private let clock: any WallClock
    private var allocations: [String: Allocation] = [:]
    private var order: [String] = []
    private var instances: [String: Instance] = [:]
    private var serial = 0
    private var faults: [Operation: [KubeIPError]] = [:]
    /// Calls per operation, including failed ones.
    public private(set) var calls: [Operation: Int] = [:]

    /// - Parameters:
    ///   - latency: how long each API call takes on `clock` before it acts, so that concurrent
    ///     claimers overlap between listing and attaching as they do against a real cloud.
    public init(region: String = "sim-east-1", latency: Duration = .zero, clock: any WallClock = SystemClock()) {
        self.region = region
        self.latency = latency
        self.clock = clock
    }

    // MARK: Setup

    /// Launches an instance with one primary interface.
    @discardableResult
    public func launchInstance(_ instanceID: String? = nil, zone: String? = nil) -> InstanceIdentity {
        serial += 1
        let id = instanceID ?? "i-sim\(hex(serial, width: 8))"
        let identity = InstanceIdentity(cloud: "simulated", instanceID: id, region: region,
                                        zone: zone ?? "\(region)a", interfaceID: "eni-sim\(hex(serial, width: 8))")
        instances[id] = Instance(identity: identity, running: true)
        return identity
    }

    /// Reserves an address in the pool; returns its allocation id.
    @discardableResult
    public func allocateAddress(_ ip: String, family: IPFamily = .ipv4, tags: [String: String] = [:]) -> String {
        serial += 1
        let id = "eipalloc-sim\(hex(serial, width: 8))"
        allocations[id] = Allocation(id: id, ip: ip, family: family, tags: tags, association: nil)
        order.append(id)
        return id
    }

    /// Terminates an instance: its addresses are disassociated (they stay allocated).
    public func terminate(_ instanceID: String) {
        guard let instance = instances[instanceID] else { return }
        instances[instanceID]?.running = false
        for id in order where allocations[id]?.association?.interface == instance.identity.interfaceID {
            allocations[id]?.association = nil
        }
    }

    /// Makes the next `count` calls of `operation` fail with `error`.
    public func inject(_ error: KubeIPError, into operation: Operation, count: Int = 1) {
        faults[operation, default: []] += Array(repeating: error, count: count)
    }

    /// The identity of a launched instance.
    public func identity(of instanceID: String) -> InstanceIdentity? { instances[instanceID]?.identity }

    /// Every address with its holder, in allocation order (the whole truth, for assertions).
    public func allAddresses() -> [PoolAddress] { order.compactMap { allocations[$0].map(snapshot) } }

    /// The addresses on `interfaceID` now.
    public func addresses(on interfaceID: String) -> [PoolAddress] {
        allAddresses().filter { $0.holder?.interfaceID == interfaceID }
    }

    // MARK: API (what the adapter calls)

    /// DescribeAddresses: every address of `family` whose tags match `filter` (all keys must
    /// match one of their values), optionally narrowed to one allocation id.
    public func describe(family: IPFamily, filter: [String: Set<String>], allocationID: String? = nil) async throws -> [PoolAddress] {
        try await enter(.describe)
        return order.compactMap { allocations[$0] }.filter { a in
            a.family == family && (allocationID == nil || a.id == allocationID)
                && filter.allSatisfy { key, values in a.tags[key].map(values.contains) ?? false }
        }.map(snapshot)
    }

    /// AssociateAddress with AllowReassociation=false: a compare-and-set on the holder.
    public func associate(allocationID: String, interfaceID: String) async throws {
        try await enter(.associate)
        guard var allocation = allocations[allocationID] else {
            throw KubeIPError(.notFound, "address \(allocationID) does not exist", resource: allocationID)
        }
        guard let instance = instances.values.first(where: { $0.identity.interfaceID == interfaceID && $0.running }) else {
            throw KubeIPError(.notFound, "interface \(interfaceID) does not exist", resource: interfaceID)
        }
        if let holder = allocation.association, holder.interface != interfaceID {
            throw KubeIPError(.conflict, "address \(allocationID) is already associated with \(holder.interface)",
                              resource: allocationID)
        }
        // One address per family on an interface's primary private IP: the newcomer replaces the old one.
        for id in order where id != allocationID {
            if allocations[id]?.association?.interface == interfaceID && allocations[id]?.family == allocation.family {
                allocations[id]?.association = nil
            }
        }
        serial += 1
        allocation.association = (interfaceID, instance.identity.instanceID, "eipassoc-sim\(hex(serial, width: 8))")
        allocations[allocationID] = allocation
    }

    /// DisassociateAddress by association id.
    public func disassociate(associationID: String) async throws {
        try await enter(.disassociate)
        guard let id = order.first(where: { allocations[$0]?.association?.id == associationID }) else {
            throw KubeIPError(.notFound, "association \(associationID) does not exist", resource: associationID)
        }
        allocations[id]?.association = nil
    }

    // MARK: Adapters

    /// A ``CloudAdapter`` for one instance, selecting the pool by tags (`filter`: key → accepted values).
    public nonisolated func adapter(for instanceID: String, filter: [String: Set<String>] = [:]) -> CloudAdapter {
        CloudAdapter(name: "simulated",
                     identity: SimulatedIdentityProvider(cloud: self, instanceID: instanceID),
                     pool: SimulatedAddressPool(cloud: self, filter: filter))
    }

    // MARK: Internals

    private func enter(_ operation: Operation) async throws {
        if latency > .zero { try await clock.sleep(for: latency) }
        calls[operation, default: 0] += 1
        if var queue = faults[operation], !queue.isEmpty {
            let error = queue.removeFirst()
            faults[operation] = queue
            throw error
        }
    }

    private func snapshot(_ a: Allocation) -> PoolAddress {
        var fields = ["PublicIp": a.ip, "AllocationId": a.id]
        for (key, value) in a.tags { fields["Tag:\(key)"] = value }
        if let holder = a.association {
            fields["NetworkInterfaceId"] = holder.interface
            fields["InstanceId"] = holder.instance
            fields["AssociationId"] = holder.id
        }
        return PoolAddress(id: a.id, ip: a.ip, family: a.family,
                           holder: a.association.map { AddressHolder(interfaceID: $0.interface, instanceID: $0.instance,
                                                                     associationID: $0.id) },
                           fields: fields)
    }

    private func hex(_ n: Int, width: Int) -> String {
        let digits = String(n, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// Identity of a simulated instance.
public struct SimulatedIdentityProvider: IdentityProvider {
    let cloud: SimulatedCloud
    let instanceID: String

    public func identity() async throws -> InstanceIdentity {
        guard let identity = await cloud.identity(of: instanceID) else {
            throw KubeIPError(.identity, "no simulated instance \(instanceID)", resource: instanceID)
        }
        return identity
    }
}

/// The simulated pool, selected by tags.
public struct SimulatedAddressPool: AddressPool {
    let cloud: SimulatedCloud
    let filter: [String: Set<String>]

    public func addresses(family: IPFamily, for identity: InstanceIdentity) async throws -> [PoolAddress] {
        try await cloud.describe(family: family, filter: filter)
    }

    public func address(id: String, family: IPFamily, for identity: InstanceIdentity) async throws -> PoolAddress? {
        try await cloud.describe(family: family, filter: filter, allocationID: id).first
    }

    public func attach(_ address: PoolAddress, to identity: InstanceIdentity) async throws {
        try await cloud.associate(allocationID: address.id, interfaceID: identity.interfaceID)
    }

    public func detach(_ address: PoolAddress, from identity: InstanceIdentity) async throws {
        guard let current = try await cloud.describe(family: address.family, filter: [:], allocationID: address.id).first,
              let holder = current.holder else { return }
        guard holder.interfaceID == identity.interfaceID, let association = holder.associationID else {
            throw KubeIPError(.conflict, "\(address.id) is held by \(holder.interfaceID), not by this instance",
                              resource: address.id)
        }
        do {
            try await cloud.disassociate(associationID: association)
        } catch let error as KubeIPError where error.code == .notFound {
            return
        }
    }
}
