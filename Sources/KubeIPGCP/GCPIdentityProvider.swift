import KubeIPCore

/// This instance, as the metadata server describes it.
///
/// Four metadata reads (project id, instance id, name, zone), once: the region is the zone
/// without its last `-x` part, so no GKE-only attribute is needed. The instance is always
/// named by the metadata server's project and zone. The `project` and `region` settings can
/// only confirm them: a static external IP must be in the VM's own project and region, so a
/// setting naming another fails as an invalid setting before any Compute call.
public struct GCPIdentityProvider: IdentityProvider {
    let metadata: GCEMetadataClient
    /// The `project` setting, when given: must be the VM's project (its id or number).
    let project: String?
    /// The `region` setting, when given: must be the VM's region.
    let region: String?

    public init(metadata: GCEMetadataClient, project: String? = nil, region: String? = nil) {
        self.metadata = metadata
        self.project = project.flatMap { $0.trimmedWhitespace.isEmpty ? nil : $0.trimmedWhitespace }
        self.region = region.flatMap { $0.trimmedWhitespace.isEmpty ? nil : $0.trimmedWhitespace }
    }

    public func identity() async throws -> InstanceIdentity {
        let projectID = try await metadata.projectID()
        let instanceID = try await metadata.instanceID()
        let name = try await metadata.instanceName()
        let (zone, projectNumber) = try await metadata.location()
        if let project, project != projectID, project != projectNumber {
            throw KubeIPError.invalid("project", "is '\(project)' but the VM is in \(projectID); a static external IP must be in the VM's project and region (leave project unset)")
        }
        let zoneRegion = GCEMetadataClient.region(ofZone: zone)
        if let region, let zoneRegion, region != zoneRegion {
            throw KubeIPError.invalid("region", "is '\(region)' but the VM is in \(zoneRegion) (zone \(zone)); a static external IP must be in the VM's project and region (leave region unset)")
        }
        guard let resolved = zoneRegion ?? region else {
            throw KubeIPError(.identity, "cannot tell the region from zone '\(zone)'; set region")
        }
        return InstanceIdentity(cloud: "gcp", instanceID: instanceID, region: resolved, zone: zone,
                                interfaceID: GCPAddressPool.interfaceID(project: projectID, zone: zone, instance: name),
                                project: projectID, name: name)
    }
}

/// A VM named by a Kubernetes Node (`spec.providerID` `gce://<project>/<zone>/<name>`): no
/// metadata read and no call at all (the Compute calls name the instance by project, zone and
/// name). The instance name stands for the instance id.
public struct GCPNodeIdentityProvider: IdentityProvider {
    public let project: String
    public let zone: String
    public let name: String

    public init(project: String, zone: String, name: String) {
        self.project = project
        self.zone = zone
        self.name = name
    }

    public func identity() async throws -> InstanceIdentity {
        guard let region = GCEMetadataClient.region(ofZone: zone) else {
            throw KubeIPError(.identity, "cannot tell the region from zone '\(zone)' of the Node's providerID; set region")
        }
        return InstanceIdentity(cloud: "gcp", instanceID: name, region: region, zone: zone,
                                interfaceID: GCPAddressPool.interfaceID(project: project, zone: zone, instance: name),
                                project: project, name: name)
    }
}
