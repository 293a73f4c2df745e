import KubeIPCore

/// An instance named by a Kubernetes Node (`spec.providerID` `aws:///<zone>/<instance-id>`), its
/// primary interface found through the EC2 API rather than instance metadata: a pod without
/// host networking may not reach IMDS (its hop limit is 1 by default).
///
/// One `ec2:DescribeInstances` call, once: the interface attached as device 0 on network card 0.
public struct AWSNodeIdentityProvider: IdentityProvider {
    let ec2: EC2Client
    /// `i-0abc…`
    public let instanceID: String
    /// `eu-west-1a`
    public let zone: String
    /// `eu-west-1`
    public let region: String

    public init(ec2: EC2Client, instanceID: String, zone: String, region: String) {
        self.ec2 = ec2
        self.instanceID = instanceID
        self.zone = zone
        self.region = region
    }

    public func identity() async throws -> InstanceIdentity {
        let answer = try await ec2.call("DescribeInstances", [("InstanceId.1", instanceID)])
        let instances = answer.first("reservationSet")?.children("item")
            .flatMap { $0.child("instancesSet")?.children("item") ?? [] } ?? []
        guard let instance = instances.first(where: { $0.value("instanceId") == instanceID }) else {
            throw KubeIPError(.identity, "EC2 does not know instance \(instanceID) (the Node's providerID) in \(region)",
                              resource: instanceID)
        }
        let interfaces = instance.child("networkInterfaceSet")?.children("item") ?? []
        guard let primary = interfaces.first(where: Self.isPrimary), let id = primary.value("networkInterfaceId") else {
            throw KubeIPError(.identity,
                              "instance \(instanceID) has \(interfaces.count) network interface(s) but none attached as device 0 on network card 0",
                              resource: instanceID)
        }
        let placed = instance.child("placement")?.value("availabilityZone") ?? zone
        return InstanceIdentity(cloud: "aws", instanceID: instanceID, region: region, zone: placed, interfaceID: id)
    }

    /// Device index 0 on network card 0 (an absent card index means card 0).
    static func isPrimary(_ interface: AWSXMLElement) -> Bool {
        guard let attachment = interface.child("attachment"), attachment.value("deviceIndex") == "0" else { return false }
        return (attachment.value("networkCardIndex") ?? "0") == "0"
    }
}
