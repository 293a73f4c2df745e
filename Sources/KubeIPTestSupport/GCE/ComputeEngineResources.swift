import KubeIPHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An access config of a network interface, as the double holds it.
public struct GCEAccessConfig: Sendable, Hashable {
    /// `ONE_TO_ONE_NAT` (IPv4) or `DIRECT_IPV6`.
    public var type: String
    /// The name `deleteAccessConfig` takes (`External NAT`, `External IPv6` by default).
    public var name: String
    /// The external IPv4 address (ONE_TO_ONE_NAT).
    public var natIP: String?
    /// The external IPv6 range's first address (DIRECT_IPV6).
    public var externalIpv6: String?
    /// The IPv6 prefix length (96 for a VM).
    public var externalIpv6PrefixLength: Int?
    /// `PREMIUM` or `STANDARD`.
    public var networkTier: String
    public var setPublicPtr: Bool?
    public var publicPtrDomainName: String?
    /// True when the IP came from the ephemeral pool rather than a reserved address
    /// (the double's bookkeeping; not an API field).
    public var isEphemeral: Bool

    /// The external IP of either family.
    public var ip: String? { natIP ?? externalIpv6 }
}

/// The primary network interface `nic0` of an instance.
public struct GCENetworkInterface: Sendable, Hashable {
    public var name: String
    /// Network URL (`.../global/networks/default`).
    public var network: String
    /// Subnetwork URL.
    public var subnetwork: String
    /// The internal IPv4 address.
    public var networkIP: String
    /// `IPV4_ONLY` or `IPV4_IPV6`.
    public var stackType: String
    /// Changes on every change of the interface; `updateNetworkInterface` must quote it.
    public var fingerprint: String
    public var accessConfigs: [GCEAccessConfig]
    public var ipv6AccessConfigs: [GCEAccessConfig]
    /// Alias IP ranges as last set (kept verbatim).
    public var aliasIpRanges: [JSONValue]
}

/// An instance of the double's project.
public struct GCEInstance: Sendable, Hashable {
    public var name: String
    /// The numeric id (uint64 as text).
    public var id: String
    public var zone: String
    /// `<selfLinkBase>projects/<project>/zones/<zone>/instances/<name>`.
    public var selfLink: String
    /// `RUNNING`.
    public var status: String
    public var creationTimestamp: Date
    public var nic0: GCENetworkInterface
    /// The attached service account, nil when none (the metadata token path then 404s).
    public var serviceAccountEmail: String?
    /// The OAuth scopes of the attached service account.
    public var scopes: [String]
}

/// A subnetwork of the `default` network in the double's region.
public struct GCESubnetwork: Sendable, Hashable {
    public var name: String
    /// The numeric id (uint64 as text).
    public var id: String
    /// The region's name.
    public var region: String
    /// The primary IPv4 range (`10.132.0.0/20` for `default`).
    public var ipCidrRange: String
    /// Whether VMs without an external IP reach Google APIs (Private Google Access).
    public var privateIpGoogleAccess: Bool
    public var creationTimestamp: Date
}

/// A reserved regional address.
public struct GCEAddress: Sendable, Hashable {
    public var name: String
    /// The numeric id (uint64 as text).
    public var id: String
    public var address: String
    /// `RESERVED`, `IN_USE` or `RESERVING`.
    public var status: String
    /// `EXTERNAL` or `INTERNAL`.
    public var addressType: String
    /// `IPV4`, `IPV6`, or nil when the address was reserved without one (then the API omits it).
    public var ipVersion: String?
    /// 96 for an external IPv6 VM range; nil for IPv4.
    public var prefixLength: Int?
    /// `VM` for external IPv6 ranges.
    public var ipv6EndpointType: String?
    public var labels: [String: String]
    /// Self links of the resources using it.
    public var users: [String]
    /// The region's name.
    public var region: String
    public var selfLink: String
    public var creationTimestamp: Date
    /// `PREMIUM` or `STANDARD`.
    public var networkTier: String
    public var description: String?

    /// The address family by `ipVersion` (absent means IPv4).
    public var isIPv6: Bool { ipVersion == "IPV6" }
}

/// One entry of an operation's `error.errors`.
public struct GCEOperationError: Sendable, Hashable {
    public var code: String
    public var message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// A zonal operation.
public struct GCEOperation: Sendable, Hashable {
    public var name: String
    public var id: String
    public var zone: String
    /// `addAccessConfig`, `deleteAccessConfig` or `updateNetworkInterface`.
    public var operationType: String
    public var targetLink: String
    public var targetId: String
    /// `PENDING`, `RUNNING` or `DONE`.
    public var status: String
    public var insertTime: Date
    public var startTime: Date?
    public var endTime: Date?
    /// Errors once DONE (empty on success).
    public var errors: [GCEOperationError]
    public var httpErrorStatusCode: Int?
    public var httpErrorMessage: String?
    /// The `requestId` the mutation carried.
    public var requestID: String?
    /// When the double completes it (the clock's time).
    public var dueTime: Date
    /// The service account that issued it.
    public var user: String
}

/// What a VM loses right after its IPv4 access config is deleted: its requests to anything
/// but the (link-local) metadata server fail with a transport timeout.
public enum ConnectivityGap: Sendable, Hashable {
    /// The next `n` off-host requests of that VM time out.
    case requests(Int)
    /// Off-host requests time out until this much time passed on the double's clock.
    case duration(Duration)
}

/// How `zoneOperations.wait` waits for an operation that is not yet due.
public enum OperationWaitMode: Sendable, Hashable {
    /// Answers the current state at once (the right thing on a manual clock nobody advances).
    case immediate
    /// Sleeps on the clock until the operation is due or the wait limit passes.
    case sleepOnClock
}

/// Which service a request reached.
public enum GCEService: String, Sendable, Hashable {
    case metadata, compute, oauth, unknown
}

/// One request the double received, for assertions.
public struct GCERecordedRequest: Sendable, Hashable {
    /// Position in arrival order, counting from 1 (stable across ``ComputeEngineDouble/clearRequests()``).
    public var sequence: Int
    /// The VM that sent it (nil for an off-cloud client).
    public var instance: String?
    public var service: GCEService
    public var method: String
    /// The URL exactly as sent.
    public var url: String
    /// The path relative to the compute base URL for compute requests, else the URL's path.
    public var path: String
    /// Query parameters, decoded, in order.
    public var query: [QueryItem]
    public var headers: [HTTPHeader]
    /// The body parsed as JSON, when it is JSON.
    public var body: JSONValue?
    /// The body as text.
    public var bodyText: String
    /// The discovery method id that served it (compute only).
    public var methodID: String?
    /// The answer's status; nil when the request failed in transport.
    public var status: Int?

    /// One query parameter.
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    /// The first value of query parameter `name`.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }
}
