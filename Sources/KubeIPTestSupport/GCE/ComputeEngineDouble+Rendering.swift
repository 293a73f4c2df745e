#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON answers shaped by the discovery document's schemas. Like the real API, empty
/// arrays and unset fields are left out rather than sent empty.
extension ComputeEngineDouble {
    /// The `Address` resource.
    public func render(_ address: GCEAddress) -> JSONValue {
        var json: [String: JSONValue] = [
            "kind": "compute#address",
            "id": .string(address.id),
            "creationTimestamp": .string(GCETimestamp.format(address.creationTimestamp)),
            "name": .string(address.name),
            "address": .string(address.address),
            "status": .string(address.status),
            "addressType": .string(address.addressType),
            "region": .string("\(projectURL)/regions/\(address.region)"),
            "selfLink": .string(address.selfLink),
            "networkTier": .string(address.networkTier),
            "labelFingerprint": .string(labelFingerprint(address.labels)),
        ]
        if let version = address.ipVersion { json["ipVersion"] = .string(version) }
        if let length = address.prefixLength { json["prefixLength"] = .number(Double(length)) }
        if let type = address.ipv6EndpointType { json["ipv6EndpointType"] = .string(type) }
        if let description = address.description { json["description"] = .string(description) }
        if !address.labels.isEmpty { json["labels"] = .object(address.labels.mapValues { .string($0) }) }
        if !address.users.isEmpty { json["users"] = .array(address.users.map { .string($0) }) }
        return .object(json)
    }

    private func labelFingerprint(_ labels: [String: String]) -> String {
        var value = fnv1a(labels.keys.sorted().map { "\($0)=\(labels[$0]!)" }.joined(separator: ","))
        let bytes = (0..<8).map { _ -> UInt8 in
            defer { value >>= 8 }
            return UInt8(truncatingIfNeeded: value)
        }
        return Data(bytes).base64EncodedString()
    }

    /// The `AccessConfig` resource.
    public func render(_ config: GCEAccessConfig) -> JSONValue {
        var json: [String: JSONValue] = [
            "kind": "compute#accessConfig",
            "type": .string(config.type),
            "name": .string(config.name),
            "networkTier": .string(config.networkTier),
        ]
        if let ip = config.natIP { json["natIP"] = .string(ip) }
        if let ip = config.externalIpv6 { json["externalIpv6"] = .string(ip) }
        if let length = config.externalIpv6PrefixLength, config.type == "DIRECT_IPV6" {
            json["externalIpv6PrefixLength"] = .number(Double(length))
        }
        if let ptr = config.setPublicPtr { json["setPublicPtr"] = .bool(ptr) }
        if let domain = config.publicPtrDomainName { json["publicPtrDomainName"] = .string(domain) }
        return .object(json)
    }

    /// The `NetworkInterface` resource.
    public func render(_ nic: GCENetworkInterface) -> JSONValue {
        var json: [String: JSONValue] = [
            "kind": "compute#networkInterface",
            "name": .string(nic.name),
            "network": .string(nic.network),
            "subnetwork": .string(nic.subnetwork),
            "networkIP": .string(nic.networkIP),
            "stackType": .string(nic.stackType),
            "fingerprint": .string(nic.fingerprint),
        ]
        if !nic.accessConfigs.isEmpty { json["accessConfigs"] = .array(nic.accessConfigs.map(render)) }
        if !nic.ipv6AccessConfigs.isEmpty { json["ipv6AccessConfigs"] = .array(nic.ipv6AccessConfigs.map(render)) }
        if nic.stackType != "IPV4_ONLY" { json["ipv6AccessType"] = "EXTERNAL" }
        if !nic.aliasIpRanges.isEmpty { json["aliasIpRanges"] = .array(nic.aliasIpRanges) }
        return .object(json)
    }

    /// The `Instance` resource.
    public func render(_ instance: GCEInstance) -> JSONValue {
        var json: [String: JSONValue] = [
            "kind": "compute#instance",
            "id": .string(instance.id),
            "creationTimestamp": .string(GCETimestamp.format(instance.creationTimestamp)),
            "name": .string(instance.name),
            "machineType": .string("\(zoneURL(instance.zone))/machineTypes/e2-small"),
            "status": .string(instance.status),
            "zone": .string(zoneURL(instance.zone)),
            "networkInterfaces": [render(instance.nic0)],
            "selfLink": .string(instance.selfLink),
            "canIpForward": false,
            "fingerprint": .string(String(fnv1a(instance.name + instance.id), radix: 36)),
        ]
        if let email = instance.serviceAccountEmail {
            json["serviceAccounts"] = [["email": .string(email), "scopes": .array(instance.scopes.map { .string($0) })]]
        }
        return .object(json)
    }

    /// The `Operation` resource.
    public func render(_ operation: GCEOperation) -> JSONValue {
        var json: [String: JSONValue] = [
            "kind": "compute#operation",
            "id": .string(operation.id),
            "name": .string(operation.name),
            "zone": .string(zoneURL(operation.zone)),
            "operationType": .string(operation.operationType),
            "targetLink": .string(operation.targetLink),
            "targetId": .string(operation.targetId),
            "status": .string(operation.status),
            "user": .string(operation.user),
            "progress": .number(operation.status == "DONE" ? 100 : 0),
            "insertTime": .string(GCETimestamp.format(operation.insertTime)),
            "selfLink": .string("\(zoneURL(operation.zone))/operations/\(operation.name)"),
        ]
        if let start = operation.startTime { json["startTime"] = .string(GCETimestamp.format(start)) }
        if let end = operation.endTime { json["endTime"] = .string(GCETimestamp.format(end)) }
        if !operation.errors.isEmpty {
            json["error"] = ["errors": .array(operation.errors.map {
                ["code": .string($0.code), "message": .string($0.message)]
            })]
        }
        if let code = operation.httpErrorStatusCode { json["httpErrorStatusCode"] = .number(Double(code)) }
        if let message = operation.httpErrorMessage { json["httpErrorMessage"] = .string(message) }
        return .object(json)
    }
}
