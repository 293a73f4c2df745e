import KubeIPCore

/// This instance, as the metadata server describes it.
///
/// Four metadata reads (project id, instance id, name, zone), once: the region is the zone
/// without its last `-x` part, so no GKE-only attribute is needed.
public struct GCPIdentityProvider: IdentityProvider {
    let metadata: GCEMetadataClient
    /// The `project` setting; else the metadata server's project.
    let project: String?
    /// The `region` setting; else the zone's region.
    let region: String?

    public init(metadata: GCEMetadataClient, project: String? = nil, region: String? = nil) {
        self.metadata = metadata
        self.project = project.flatMap { $0.trimmed.isEmpty ? nil : $0.trimmed }
        self.region = region.flatMap { $0.trimmed.isEmpty ? nil : $0.trimmed }
    }

    public func identity() async throws -> InstanceIdentity {
        let projectID: String
        if let project { projectID = project } else { projectID = try await metadata.projectID() }
        let instanceID = try await metadata.instanceID()
        let name = try await metadata.instanceName()
        let zone = try await metadata.zone()
        guard let region = region ?? GCEMetadataClient.region(ofZone: zone) else {
            throw KubeIPError(.identity, "cannot tell the region from zone '\(zone)'; set region")
        }
        return InstanceIdentity(cloud: "gcp", instanceID: instanceID, region: region, zone: zone,
                                interfaceID: GCPAddressPool.interfaceID(project: projectID, zone: zone, instance: name),
                                project: projectID, name: name)
    }
}
