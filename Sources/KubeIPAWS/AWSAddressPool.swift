import KubeIPCore
import Logging

/// The pool of Elastic IPs the filter selects, with EC2's conditional association as the claim.
///
/// Each operation is exactly one EC2 call (detach may add one read when it lacks the
/// association id), so a first assignment costs describe → associate → describe.
public struct AWSAddressPool: AddressPool {
    let ec2: EC2Client
    /// The user's filter, plus `domain=vpc` unless the user filters on domain.
    public let filter: EC2Filter
    let logger: Logger

    /// A pool of the Elastic IPs `filter` selects (in the VPC domain unless the filter names one).
    public init(ec2: EC2Client, filter: EC2Filter, logger: Logger = Logger(label: "kubeip.aws")) {
        self.ec2 = ec2
        var effective = filter
        if !filter.contains(name: "domain") {
            effective.clauses.append(EC2Filter.Clause(name: "domain", values: ["vpc"]))
        }
        self.filter = effective
        self.logger = logger
    }

    static func requireIPv4(_ family: IPFamily) throws {
        guard family == .ipv4 else {
            throw KubeIPError.invalid("ipv6", "AWS Elastic IPs are IPv4 only; unset ipv6 / ip-families for cloud aws")
        }
    }

    public func addresses(family: IPFamily, for identity: InstanceIdentity) async throws -> [PoolAddress] {
        try Self.requireIPv4(family)
        let answer = try await ec2.call("DescribeAddresses", filter.queryParameters())
        return Self.addresses(in: answer)
    }

    public func address(id: String, family: IPFamily, for identity: InstanceIdentity) async throws -> PoolAddress? {
        try Self.requireIPv4(family)
        do {
            let answer = try await ec2.call("DescribeAddresses", [("AllocationId.1", id)] + filter.queryParameters())
            return Self.addresses(in: answer).first { $0.id == id }
        } catch let error as KubeIPError where error.code == .notFound {
            return nil
        }
    }

    public func attach(_ address: PoolAddress, to identity: InstanceIdentity) async throws {
        var trace = EC2CallTrace()
        do {
            _ = try await ec2.call("AssociateAddress", [
                ("AllocationId", address.id), ("NetworkInterfaceId", identity.interfaceID),
                ("AllowReassociation", "false"),
            ], trace: &trace)
        } catch var error as KubeIPError where error.code == .conflict {
            // After a retry, the "other interface" may be ours: an earlier attempt whose answer was
            // lost (timeout, 5xx) may have associated the address. Look before calling it a lost race.
            // The happy path and a plain lost race cost no extra call.
            if trace.attempts > 1, let current = try await self.address(id: address.id, family: .ipv4, for: identity),
               current.isHeld(by: identity) {
                return
            }
            error.message = "\(address.ip) (\(address.id)) is already associated with another interface"
            error.resource = address.id
            throw error
        } catch let error as KubeIPError {
            throw Self.associationFailure(error, ec2Code: trace.errorCode, address: address,
                                          interfaceID: identity.interfaceID)
        }
    }

    /// What a refused AssociateAddress means for the claim, by EC2's error code.
    static func associationFailure(_ error: KubeIPError, ec2Code: String?, address: PoolAddress,
                                   interfaceID: String) -> KubeIPError {
        switch ec2Code {
        case "InvalidAllocationID.NotFound":
            // Released between our DescribeAddresses and this call: this candidate is gone, the next may do.
            return KubeIPError(.conflict, "\(address.ip) (\(address.id)) was released before it could be associated",
                               resource: address.id)
        case "InvalidNetworkInterfaceID.NotFound":
            return KubeIPError(.notFound, "EC2 does not know this instance's network interface \(interfaceID): \(error.message)",
                               resource: interfaceID)
        case "Gateway.NotAttached":
            return KubeIPError(.cloudAPI,
                               "the VPC of \(interfaceID) has no internet gateway; an Elastic IP cannot be associated (\(error.message))",
                               resource: interfaceID)
        default:
            var error = error
            if error.code == .notFound { error.resource = address.id }
            if error.code == .cloudAPI {
                // EC2's own words (InvalidParameterValue, …), and what we asked of it.
                error.message += " (associating \(address.ip) (\(address.id)) with \(interfaceID))"
            }
            return error
        }
    }

    public func detach(_ address: PoolAddress, from identity: InstanceIdentity) async throws {
        var holder = address.holder
        if holder?.associationID?.isEmpty ?? true {
            // Without the association handle, read the address as it is now.
            do {
                let answer = try await ec2.call("DescribeAddresses", [("AllocationId.1", address.id)])
                holder = Self.addresses(in: answer).first { $0.id == address.id }?.holder
            } catch let error as KubeIPError where error.code == .notFound {
                return
            }
        }
        guard let holder else { return }  // already detached
        guard holder.interfaceID == identity.interfaceID else {
            throw KubeIPError(.conflict,
                              "refusing to detach \(address.ip) (\(address.id)): it is on \(holder.interfaceID), not on this instance's \(identity.interfaceID)",
                              resource: address.id)
        }
        guard let association = holder.associationID, !association.isEmpty else {
            throw KubeIPError(.cloudAPI, "EC2 shows \(address.ip) (\(address.id)) on \(holder.interfaceID) without an association id",
                              resource: address.id)
        }
        do {
            _ = try await ec2.call("DisassociateAddress", [("AssociationId", association)])
        } catch let error as KubeIPError where error.code == .notFound {
            logger.debug("association already gone", metadata: ["association": "\(association)"])
        }
    }

    /// Maps `addressesSet/item` elements to pool addresses.
    static func addresses(in answer: AWSXMLElement) -> [PoolAddress] {
        guard let set = answer.first("addressesSet") else { return [] }
        return set.children("item").compactMap(address(from:))
    }

    static func address(from item: AWSXMLElement) -> PoolAddress? {
        var fields: [String: String] = [:]
        // Every scalar field by its API name; an empty element (moto's <instanceId/>) is no value.
        for child in item.children where child.children.isEmpty {
            let value = child.text.trimmedWhitespace
            if !value.isEmpty { fields[apiName(child.name)] = value }
        }
        for tag in item.child("tagSet")?.children("item") ?? [] {
            if let key = tag.value("key") { fields["Tag:\(key)"] = tag.value("value") ?? "" }
        }
        guard let id = fields["AllocationId"], !id.isEmpty, let ip = fields["PublicIp"], !ip.isEmpty else { return nil }
        func nonEmpty(_ key: String) -> String? { fields[key] }
        // moto leaves InstanceId empty for an association made by interface id: never rely on it.
        let holder = nonEmpty("NetworkInterfaceId").map {
            AddressHolder(interfaceID: $0, instanceID: nonEmpty("InstanceId"), associationID: nonEmpty("AssociationId"))
        }
        return PoolAddress(id: id, ip: ip, family: .ipv4, holder: holder, fields: fields)
    }

    /// `publicIp` → `PublicIp`: the wire's element names are the API's field names, lower-camel.
    static func apiName(_ element: String) -> String {
        guard let first = element.first else { return element }
        return first.uppercased() + element.dropFirst()
    }
}

/// This instance, as IMDS describes it.
public struct AWSIdentityProvider: IdentityProvider {
    let imds: IMDSClient

    /// Identity from `imds`: instance id, region, zone and the device-0 interface.
    public init(imds: IMDSClient) { self.imds = imds }

    public func identity() async throws -> InstanceIdentity {
        let instanceID = try await imds.instanceID()
        let zone = try await imds.availabilityZone()
        let region = try await imds.region()
        let interface = try await imds.primaryInterfaceID()
        return InstanceIdentity(cloud: "aws", instanceID: instanceID, region: region, zone: zone, interfaceID: interface)
    }
}
