#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// subnetworks.get and addresses.testIamPermissions: what kubeip checks once before it
/// first takes nic0's external IPv4 address away.
extension ComputeEngineDouble {
    /// The IAM permission attaching a reserved address needs (on the address).
    static let addressUsePermission = "compute.addresses.use"

    /// Turns Private Google Access of subnet `subnet` (in the configured region) on or off.
    public func setPrivateGoogleAccess(_ enabled: Bool, subnet: String = "default") {
        precondition(subnetworks[subnet] != nil, "unknown subnetwork \(subnet)")
        subnetworks[subnet]?.privateIpGoogleAccess = enabled
    }

    /// A subnetwork as it is now.
    public func subnetwork(_ name: String) -> GCESubnetwork? { subnetworks[name] }

    /// The `Subnetwork` resource (`privateIpGoogleAccess` always rendered, false included).
    public func render(_ subnet: GCESubnetwork) -> JSONValue {
        let regionLink = "\(projectURL)/regions/\(subnet.region)"
        return [
            "kind": "compute#subnetwork",
            "id": .string(subnet.id),
            "creationTimestamp": .string(GCETimestamp.format(subnet.creationTimestamp)),
            "name": .string(subnet.name),
            "network": .string("\(projectURL)/global/networks/default"),
            "region": .string(regionLink),
            "selfLink": .string("\(regionLink)/subnetworks/\(subnet.name)"),
            "ipCidrRange": .string(subnet.ipCidrRange),
            "privateIpGoogleAccess": .bool(subnet.privateIpGoogleAccess),
            "stackType": "IPV4_ONLY",
            "purpose": "PRIVATE",
        ]
    }

    func getSubnetwork(_ call: ComputeCall) throws(GoogleErrorResponse) -> JSONValue {
        try checkRegion(call)
        if let view = call.query["views"], !["DEFAULT", "WITH_UTILIZATION"].contains(view) {
            throw .badRequest("Invalid value for parameter 'views': '\(view)'.")
        }
        let key = call.path["subnetwork"]!
        guard let subnet = subnetworks[key] ?? subnetworks.values.first(where: { $0.id == key }),
              subnet.region == configuration.region else {
            throw .notFound("projects/\(configuration.projectID)/regions/\(configuration.region)/subnetworks/\(key)")
        }
        return render(subnet)
    }

    /// The requested permissions the caller has: all but the denied ones, in request order.
    func testAddressPermissions(_ call: ComputeCall) throws(GoogleErrorResponse) -> JSONValue {
        _ = try regionalAddress(call, key: call.path["resource"]!)
        let requested = call.body["permissions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let wildcard = requested.first(where: { $0.contains("*") }) {
            throw .badRequest("Invalid value for field 'resource.permissions': '\(wildcard)'. Permissions with "
                              + "wildcards are not allowed.")
        }
        let granted = requested.filter { !deniedPermissions.contains($0) }
        return granted.isEmpty ? .object([:]) : ["permissions": .array(granted.map { .string($0) })]
    }
}
