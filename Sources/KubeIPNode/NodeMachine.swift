import KubeIPCore
import KubeIPKube

/// The machine behind a Kubernetes Node, read from `spec.providerID` and the topology labels
/// (no node-pool label is needed: Karpenter nodes have none).
public enum NodeMachine: Sendable, Equatable {
    /// `aws:///<zone>/<instance-id>` (`aws:///eu-west-1a/i-0abc…`).
    case aws(instanceID: String, zone: String, region: String)
    /// `gce://<project>/<zone>/<name>`.
    case gcp(project: String, zone: String, name: String, region: String)

    /// The well-known topology labels.
    public static let regionLabel = "topology.kubernetes.io/region"
    public static let zoneLabel = "topology.kubernetes.io/zone"

    /// Reads the machine of `node`.
    /// - Throws: `.identity` naming the Node and what is missing or not understood.
    public static func of(_ node: Node) throws -> NodeMachine {
        let name = node.metadata.name ?? "?"
        guard let providerID = node.spec?.providerID, !providerID.isEmpty else {
            throw KubeIPError(.identity,
                              "Node \(name) has no spec.providerID yet (the cloud-controller-manager sets it once the node is initialised)",
                              resource: "nodes/\(name)")
        }
        let labels = node.metadata.labels ?? [:]
        if providerID.hasPrefix("aws://") {
            // aws:///eu-west-1a/i-0abc (the zone part may be empty: aws:////i-0abc)
            let parts = providerID.dropFirst("aws://".count).split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            guard let instance = parts.last, instance.hasPrefix("i-") else {
                throw unreadable(providerID, name, "expected aws:///<zone>/<instance-id>")
            }
            let zone = parts.count >= 2 ? parts[parts.count - 2] : (labels[zoneLabel] ?? "")
            guard let region = labels[regionLabel] ?? awsRegion(ofZone: zone) else {
                throw unreadable(providerID, name, "no zone in it and no \(regionLabel) label")
            }
            return .aws(instanceID: instance, zone: zone, region: region)
        }
        if providerID.hasPrefix("gce://") {
            let parts = providerID.dropFirst("gce://".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
                throw unreadable(providerID, name, "expected gce://<project>/<zone>/<instance-name>")
            }
            guard let region = labels[regionLabel] ?? gcpRegion(ofZone: parts[1]) else {
                throw unreadable(providerID, name, "cannot tell the region of zone \(parts[1])")
            }
            return .gcp(project: parts[0], zone: parts[1], name: parts[2], region: region)
        }
        let scheme = providerID.firstRange(of: "://").map { String(providerID[..<$0.lowerBound]) } ?? providerID
        throw KubeIPError(.identity,
                          "Node \(name) runs on '\(scheme)' (providerID \(providerID)); kube mode supports aws and gce nodes",
                          resource: "nodes/\(name)")
    }

    /// The cloud's name as the settings spell it (`aws`, `gcp`).
    public var cloud: String {
        switch self {
        case .aws: "aws"
        case .gcp: "gcp"
        }
    }

    public var region: String {
        switch self {
        case .aws(_, _, let region), .gcp(_, _, _, let region): region
        }
    }

    /// `eu-west-1a` → `eu-west-1`; local and wavelength zones (`us-west-2-lax-1a`) keep the
    /// region label's answer, so this is only the fallback without labels.
    static func awsRegion(ofZone zone: String) -> String? {
        guard let last = zone.last, last.isLetter, zone.count > 1 else { return nil }
        return String(zone.dropLast())
    }

    /// `europe-west1-b` → `europe-west1`.
    static func gcpRegion(ofZone zone: String) -> String? {
        guard let dash = zone.lastIndex(of: "-"), dash != zone.startIndex else { return nil }
        return String(zone[..<dash])
    }

    private static func unreadable(_ providerID: String, _ node: String, _ expected: String) -> KubeIPError {
        KubeIPError(.identity, "cannot read providerID \(providerID) of Node \(node): \(expected)", resource: "nodes/\(node)")
    }
}
