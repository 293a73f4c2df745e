/// The request-body schemas of the served methods (AccessConfig, NetworkInterface and what
/// they nest, TestPermissionsRequest), field by field as the discovery document defines them. The double rejects
/// any field not listed, any value of the wrong JSON type and any value outside an enum.
public indirect enum SchemaFieldType: Sendable, Hashable {
    /// A string; `allowed` lists the enum values when the field is an enum.
    case string(allowed: [String]?)
    /// An `int32`/`uint32` (JSON number, or a string of digits as proto3 JSON allows).
    case integer
    case boolean
    /// A nested object, by schema name (see ``RequestBodySchema/schemas``).
    case object(String)
    case array(SchemaFieldType)

    /// `string`, `integer`, `boolean`, `object` or `array`, as the document's `type` says.
    public var documentType: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .boolean: "boolean"
        case .object: "object"
        case .array: "array"
        }
    }
}

/// Validation of request bodies against ``RequestBodySchema/schemas``.
public enum RequestBodySchema {
    static let networkTiers = ["FIXED_STANDARD", "PREMIUM", "STANDARD", "STANDARD_OVERRIDES_FIXED_STANDARD"]

    /// Every schema a request body may use, by name.
    public static let schemas: [String: [String: SchemaFieldType]] = [
        "AccessConfig": [
            "externalIpv6": .string(allowed: nil),
            "externalIpv6PrefixLength": .integer,
            "ipCollection": .string(allowed: nil),
            "kind": .string(allowed: nil),
            "name": .string(allowed: nil),
            "natIP": .string(allowed: nil),
            "networkTier": .string(allowed: networkTiers),
            "publicPtrDomainName": .string(allowed: nil),
            "securityPolicy": .string(allowed: nil),
            "setPublicPtr": .boolean,
            "type": .string(allowed: ["DIRECT_IPV6", "ONE_TO_ONE_NAT"]),
        ],
        "AliasIpRange": [
            "ipCidrRange": .string(allowed: nil),
            "subnetworkRangeName": .string(allowed: nil),
        ],
        "NetworkInterface": [
            "accessConfigs": .array(.object("AccessConfig")),
            "aliasIpRanges": .array(.object("AliasIpRange")),
            "aliasIpv6Ranges": .array(.object("AliasIpRange")),
            "enableVpcScopedDns": .boolean,
            "fingerprint": .string(allowed: nil),
            "igmpQuery": .string(allowed: ["IGMP_QUERY_DISABLED", "IGMP_QUERY_V2"]),
            "internalIpv6PrefixLength": .integer,
            "ipv6AccessConfigs": .array(.object("AccessConfig")),
            "ipv6AccessType": .string(allowed: ["EXTERNAL", "INTERNAL"]),
            "ipv6Address": .string(allowed: nil),
            "kind": .string(allowed: nil),
            "name": .string(allowed: nil),
            "network": .string(allowed: nil),
            "networkAttachment": .string(allowed: nil),
            "networkIP": .string(allowed: nil),
            "nicType": .string(allowed: ["GVNIC", "IDPF", "IRDMA", "MRDMA", "UNSPECIFIED_NIC_TYPE", "VIRTIO_NET"]),
            "parentNicName": .string(allowed: nil),
            "queueCount": .integer,
            "serviceClassId": .string(allowed: nil),
            "stackType": .string(allowed: ["IPV4_IPV6", "IPV4_ONLY", "IPV6_ONLY"]),
            "subnetwork": .string(allowed: nil),
            "vlan": .integer,
        ],
        "TestPermissionsRequest": [
            "permissions": .array(.string(allowed: nil)),
        ],
    ]

    /// Checks `value` against schema `name`; the error names the offending field by its path
    /// (`resource.ipv6AccessConfigs[0].foo`).
    static func validate(_ value: JSONValue, as name: String, at path: String = "resource") throws(GoogleErrorResponse) {
        guard let fields = schemas[name] else { throw .badRequest("No schema \(name).") }
        guard case .object(let members) = value else {
            throw .badRequest("Invalid JSON payload: '\(path)' must be a \(name) object.")
        }
        for key in members.keys.sorted() {
            guard let type = fields[key] else {
                throw .badRequest("Invalid JSON payload: unknown field \"\(key)\" at '\(path)': \(name) has no such field.")
            }
            try check(members[key]!, type, at: "\(path).\(key)")
        }
    }

    private static func check(_ value: JSONValue, _ type: SchemaFieldType, at path: String) throws(GoogleErrorResponse) {
        if value == .null { return }
        switch type {
        case .string(let allowed):
            guard let text = value.stringValue else { throw mismatch(path, "a string") }
            if let allowed, !allowed.contains(text) {
                throw .badRequest("Invalid value at '\(path)': \"\(text)\" is not one of \(allowed.joined(separator: ", ")).")
            }
        case .integer:
            guard let number = value.intValue, Int64(number) >= Int64(Int32.min), Int64(number) <= Int64(UInt32.max) else {
                throw mismatch(path, "an integer")
            }
        case .boolean:
            guard value.boolValue != nil else { throw mismatch(path, "a boolean") }
        case .object(let name):
            try validate(value, as: name, at: path)
        case .array(let element):
            guard let items = value.arrayValue else { throw mismatch(path, "an array") }
            for (index, item) in items.enumerated() { try check(item, element, at: "\(path)[\(index)]") }
        }
    }

    private static func mismatch(_ path: String, _ expected: String) -> GoogleErrorResponse {
        .badRequest("Invalid value at '\(path)': expected \(expected).")
    }
}
