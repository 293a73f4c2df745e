/// Compute Engine v1 resources, as kubeip reads and writes them: only fields of the API's
/// discovery document, all optional (the API omits empty ones; PATCH bodies must omit what
/// they do not change).
public enum Compute {
    /// A reserved address (`compute#address`).
    public struct Address: Codable, Sendable, Equatable {
        public var kind: String?
        public var id: String?
        public var name: String?
        public var address: String?
        /// `RESERVED`, `RESERVING` or `IN_USE`.
        public var status: String?
        /// `EXTERNAL` or `INTERNAL`.
        public var addressType: String?
        /// `IPV4` or `IPV6`.
        public var ipVersion: String?
        public var ipv6EndpointType: String?
        public var prefixLength: Int?
        public var networkTier: String?
        public var labels: [String: String]?
        /// Self-links of the resources using it (an instance, a forwarding rule...).
        public var users: [String]?
        public var region: String?
        public var selfLink: String?
        public var creationTimestamp: String?
        public var description: String?

        public init(name: String? = nil, address: String? = nil, status: String? = nil, addressType: String? = nil,
                    ipVersion: String? = nil, prefixLength: Int? = nil, networkTier: String? = nil,
                    labels: [String: String]? = nil, users: [String]? = nil, selfLink: String? = nil,
                    creationTimestamp: String? = nil) {
            self.name = name
            self.address = address
            self.status = status
            self.addressType = addressType
            self.ipVersion = ipVersion
            self.prefixLength = prefixLength
            self.networkTier = networkTier
            self.labels = labels
            self.users = users
            self.selfLink = selfLink
            self.creationTimestamp = creationTimestamp
        }
    }

    /// One page of `addresses.list`.
    public struct AddressList: Codable, Sendable, Equatable {
        public var kind: String?
        public var id: String?
        public var items: [Address]?
        public var nextPageToken: String?
        public var selfLink: String?
    }

    /// An IPv4 (`ONE_TO_ONE_NAT`) or IPv6 (`DIRECT_IPV6`) access config of a network interface.
    public struct AccessConfig: Codable, Sendable, Equatable {
        public var kind: String?
        public var type: String?
        public var name: String?
        /// IPv4 only: the external address; omitted to get an ephemeral one.
        public var natIP: String?
        /// IPv6 only: the first address of the external range.
        public var externalIpv6: String?
        public var externalIpv6PrefixLength: Int?
        public var networkTier: String?

        public init(type: String? = nil, name: String? = nil, natIP: String? = nil, externalIpv6: String? = nil,
                    externalIpv6PrefixLength: Int? = nil, networkTier: String? = nil) {
            self.type = type
            self.name = name
            self.natIP = natIP
            self.externalIpv6 = externalIpv6
            self.externalIpv6PrefixLength = externalIpv6PrefixLength
            self.networkTier = networkTier
        }
    }

    /// A network interface of an instance.
    public struct NetworkInterface: Codable, Sendable, Equatable {
        public var kind: String?
        /// `nic0` for the primary interface.
        public var name: String?
        public var network: String?
        public var subnetwork: String?
        public var networkIP: String?
        public var stackType: String?
        public var accessConfigs: [AccessConfig]?
        public var ipv6AccessConfigs: [AccessConfig]?
        /// Required (current) in updateNetworkInterface; a stale one is refused with 412.
        public var fingerprint: String?

        public init(fingerprint: String? = nil, accessConfigs: [AccessConfig]? = nil,
                    ipv6AccessConfigs: [AccessConfig]? = nil) {
            self.fingerprint = fingerprint
            self.accessConfigs = accessConfigs
            self.ipv6AccessConfigs = ipv6AccessConfigs
        }
    }

    /// An instance (only what kubeip reads).
    public struct Instance: Codable, Sendable, Equatable {
        public var kind: String?
        public var id: String?
        public var name: String?
        public var zone: String?
        public var status: String?
        public var selfLink: String?
        public var networkInterfaces: [NetworkInterface]?
    }

    /// A subnetwork (only what kubeip reads).
    public struct Subnetwork: Codable, Sendable, Equatable {
        public var kind: String?
        public var id: String?
        public var name: String?
        public var network: String?
        public var region: String?
        public var selfLink: String?
        /// Whether VMs without an external address reach Google APIs (Private Google Access).
        public var privateIpGoogleAccess: Bool?
    }

    /// The body of a `testIamPermissions` call.
    public struct TestPermissionsRequest: Codable, Sendable, Equatable {
        public var permissions: [String]
    }

    /// The answer of a `testIamPermissions` call: the permissions the caller has (omitted when none).
    public struct TestPermissionsResponse: Codable, Sendable, Equatable {
        public var permissions: [String]?
    }

    /// A zonal operation (`compute#operation`).
    public struct Operation: Codable, Sendable, Equatable {
        public struct Failure: Codable, Sendable, Equatable {
            public struct Item: Codable, Sendable, Equatable {
                public var code: String?
                public var location: String?
                public var message: String?
            }
            public var errors: [Item]?
        }
        public var kind: String?
        public var id: String?
        public var name: String?
        public var operationType: String?
        /// `PENDING`, `RUNNING` or `DONE`.
        public var status: String?
        public var statusMessage: String?
        public var targetLink: String?
        public var zone: String?
        public var selfLink: String?
        public var progress: Int?
        public var error: Failure?
        public var httpErrorStatusCode: Int?
        public var httpErrorMessage: String?

        public var isDone: Bool { status == "DONE" }
    }

    /// The error envelope of a non-2xx answer: `{"error": {"code", "message", "errors": [...], "status"}}`.
    public struct ErrorEnvelope: Codable, Sendable, Equatable {
        public struct Body: Codable, Sendable, Equatable {
            public struct Item: Codable, Sendable, Equatable {
                public var reason: String?
                public var message: String?
                public var domain: String?
                public var location: String?
                public var locationType: String?
            }
            /// One entry of `details`; only `google.rpc.ErrorInfo` entries carry a reason
            /// (`SERVICE_DISABLED`, `BILLING_DISABLED`, ...). Other kinds decode with every field nil.
            public struct Detail: Codable, Sendable, Equatable {
                public var type: String?
                public var reason: String?
                public var domain: String?
                public var metadata: [String: String]?

                enum CodingKeys: String, CodingKey {
                    case type = "@type", reason, domain, metadata
                }

                public init(from decoder: any Decoder) throws {
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    type = try? container.decodeIfPresent(String.self, forKey: .type)
                    reason = try? container.decodeIfPresent(String.self, forKey: .reason)
                    domain = try? container.decodeIfPresent(String.self, forKey: .domain)
                    metadata = try? container.decodeIfPresent([String: String].self, forKey: .metadata)
                }
            }
            public var code: Int?
            public var message: String?
            public var errors: [Item]?
            public var status: String?
            public var details: [Detail]?

            /// The reasons of `errors` and of the `details` that have one.
            public var reasons: Set<String> {
                Set((errors ?? []).compactMap(\.reason) + (details ?? []).compactMap(\.reason))
            }
        }
        public var error: Body?
    }
}
