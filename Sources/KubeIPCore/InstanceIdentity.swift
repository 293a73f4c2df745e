/// Who this machine is, as the cloud knows it.
public struct InstanceIdentity: Sendable, Hashable, Codable {
    /// The adapter that produced it: `aws`, `gcp`, `simulated`, ...
    public var cloud: String
    /// The cloud's instance id (`i-0abc...`, a GCE numeric id).
    public var instanceID: String
    /// Region (`eu-west-1`, `europe-west1`).
    public var region: String
    /// Zone (`eu-west-1a`, `europe-west1-b`).
    public var zone: String
    /// The primary network interface that addresses attach to (`eni-...`, `nic0`).
    public var interfaceID: String
    /// Project or account, where the cloud has one.
    public var project: String?
    /// A human name for logs (GCE instance name), when it differs from the id.
    public var name: String?

    public init(cloud: String, instanceID: String, region: String, zone: String,
                interfaceID: String, project: String? = nil, name: String? = nil) {
        self.cloud = cloud
        self.instanceID = instanceID
        self.region = region
        self.zone = zone
        self.interfaceID = interfaceID
        self.project = project
        self.name = name
    }

    /// `i-0abc (eu-west-1a)`: how logs name this instance.
    public var displayName: String { "\(name ?? instanceID) (\(zone))" }
}

/// Learns the instance identity from wherever the cloud publishes it.
public protocol IdentityProvider: Sendable {
    /// Resolves the identity; throws `.identity` when the metadata source is unreachable.
    func identity() async throws -> InstanceIdentity
}
