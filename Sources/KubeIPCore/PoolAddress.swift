/// Address family of a pool address.
public enum IPFamily: String, Sendable, Codable, CaseIterable, Hashable {
    case ipv4
    case ipv6
}

/// Where an address is attached right now.
public struct AddressHolder: Sendable, Hashable, Codable {
    /// The network interface holding it (`eni-...`; on GCE `instance-id/nic0`).
    public var interfaceID: String
    /// The instance behind that interface, when the cloud says.
    public var instanceID: String?
    /// The cloud's association handle (`eipassoc-...`), needed to detach on AWS.
    public var associationID: String?

    public init(interfaceID: String, instanceID: String? = nil, associationID: String? = nil) {
        self.interfaceID = interfaceID
        self.instanceID = instanceID
        self.associationID = associationID
    }
}

/// One reserved address of the pool, as last read from the cloud.
public struct PoolAddress: Sendable, Hashable, Codable, Identifiable {
    /// The cloud's handle: `eipalloc-...` on AWS, the address name on GCE.
    public var id: String
    /// The public IP in its textual form.
    public var ip: String
    public var family: IPFamily
    /// Current holder; nil when the address is free.
    public var holder: AddressHolder?
    /// Fields ORDER_BY may name, by the cloud's own field names (`PublicIp`, `Tag:env`, ...).
    public var fields: [String: String]

    public init(id: String, ip: String, family: IPFamily = .ipv4, holder: AddressHolder? = nil,
                fields: [String: String] = [:]) {
        self.id = id
        self.ip = ip
        self.family = family
        self.holder = holder
        self.fields = fields
    }

    /// Whether the address is free to claim.
    public var isFree: Bool { holder == nil }

    /// Whether `identity`'s primary interface holds it.
    public func isHeld(by identity: InstanceIdentity) -> Bool {
        holder?.interfaceID == identity.interfaceID
    }
}
