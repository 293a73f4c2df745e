import KubeIPCore
import KubeIPHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A strict in-memory Compute Engine v1 API, GCE metadata server and OAuth token endpoint,
/// reachable as a ``KubeIPHTTP/HTTPClient`` (see ``client(for:)``).
///
/// It follows the discovery document `compute.v1.json` for the methods kubeip uses: same
/// paths and verbs, only the defined query parameters and body fields (anything else is a
/// 400 with a Google error body), JSON shaped by the schemas, bearer tokens it issued itself
/// (401 otherwise). Mutations answer a zonal Operation that completes after
/// ``Configuration/operationDelay`` on the injected clock; the address and interface
/// changes happen when it completes, and an IN_USE address makes it finish DONE with error
/// `IP_IN_USE_BY_ANOTHER_RESOURCE`.
public actor ComputeEngineDouble {
    /// OAuth scope granting everything.
    public static let cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
    /// OAuth scope for Compute Engine read and write.
    public static let computeScope = "https://www.googleapis.com/auth/compute"
    /// OAuth scope for Compute Engine reads.
    public static let computeReadOnlyScope = "https://www.googleapis.com/auth/compute.readonly"

    /// The world and the endpoints.
    public struct Configuration: Sendable {
        /// The project id (`project/project-id`, paths and self links).
        public var projectID: String
        /// The project number (`project/numeric-project-id`, `instance/zone`); paths accept it too.
        public var projectNumber: String
        /// The one region whose addresses the double holds.
        public var region: String
        /// The zones instances may live in (the first is the default).
        public var zones: [String]
        /// The metadata server's `host[:port]` (what `GCE_METADATA_HOST` would hold);
        /// `169.254.169.254` also reaches it when this is the default name. Plain http only.
        public var metadataHost: String
        /// The Compute base URL, ending in `/compute/v1/`.
        public var computeBaseURL: String
        /// The prefix of self links in answers (the real API uses www.googleapis.com).
        public var selfLinkBase: String
        /// The OAuth 2.0 token endpoint (JWT-bearer grants).
        public var tokenURL: String
        /// The service account a JWT must be issued by, and that VM tokens belong to.
        public var serviceAccountEmail: String
        /// When set, JWT assertions must carry a valid RS256 signature by this key
        /// (`-----BEGIN PUBLIC KEY-----` or `-----BEGIN RSA PUBLIC KEY-----`). When nil the
        /// double checks the JWT's structure and claims only.
        public var serviceAccountPublicKeyPEM: String?
        /// `addresses.list` page size when the request gives no `maxResults` (the real
        /// default is 500; small here so clients must page).
        public var defaultPageSize: Int
        /// How long after its request an operation completes.
        public var operationDelay: Duration
        /// The longest `zoneOperations.wait` waits (the real one: about 2 minutes).
        public var waitLimit: Duration
        /// How `zoneOperations.wait` waits; nil chooses `.immediate` on a ``KubeIPSimulator/ManualClock``
        /// and `.sleepOnClock` on any other clock.
        public var waitMode: OperationWaitMode?
        /// Time every request takes on the clock before it is served.
        public var latency: Duration
        /// Lifetime of issued access tokens.
        public var tokenLifetime: Duration
        /// The connectivity gap a VM suffers after its IPv4 access config is deleted.
        public var connectivityGap: ConnectivityGap?

        /// The defaults: project `kubeip-sim` (271828182845) in europe-west1, real endpoint URLs.
        public init(projectID: String = "kubeip-sim", projectNumber: String = "271828182845",
                    region: String = "europe-west1",
                    zones: [String] = ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
                    metadataHost: String = "metadata.google.internal",
                    computeBaseURL: String = "https://compute.googleapis.com/compute/v1/",
                    selfLinkBase: String = "https://www.googleapis.com/compute/v1/",
                    tokenURL: String = "https://oauth2.googleapis.com/token",
                    serviceAccountEmail: String? = nil, serviceAccountPublicKeyPEM: String? = nil,
                    defaultPageSize: Int = 2, operationDelay: Duration = .zero, waitLimit: Duration = .seconds(120),
                    waitMode: OperationWaitMode? = nil, latency: Duration = .zero,
                    tokenLifetime: Duration = .seconds(3600), connectivityGap: ConnectivityGap? = nil) {
            self.projectID = projectID
            self.projectNumber = projectNumber
            self.region = region
            self.zones = zones
            self.metadataHost = metadataHost
            self.computeBaseURL = computeBaseURL
            self.selfLinkBase = selfLinkBase
            self.tokenURL = tokenURL
            self.serviceAccountEmail = serviceAccountEmail ?? "kubeip@\(projectID).iam.gserviceaccount.com"
            self.serviceAccountPublicKeyPEM = serviceAccountPublicKeyPEM
            self.defaultPageSize = defaultPageSize
            self.operationDelay = operationDelay
            self.waitLimit = waitLimit
            self.waitMode = waitMode
            self.latency = latency
            self.tokenLifetime = tokenLifetime
            self.connectivityGap = connectivityGap
        }
    }

    /// What an operation does when it completes.
    enum PendingChange: Sendable {
        case addAccessConfig(instance: String, config: GCEAccessConfig, addressName: String?)
        case deleteAccessConfig(instance: String, name: String)
        case updateNetworkInterface(instance: String, ipv6: [(config: GCEAccessConfig, addressName: String?)]?,
                                    stackType: String?, aliasIpRanges: [JSONValue]?)
    }

    struct OperationRecord: Sendable {
        var operation: GCEOperation
        var change: PendingChange
        var sequence: Int
    }

    struct IssuedToken: Sendable {
        var scopes: [String]
        var expiry: Date
        var email: String
    }

    struct InjectedFault: Sendable {
        var status: Int?
        var retryAfter: Int?
        var isTimeout: Bool
        var remaining: Int
        var match: String?
    }

    /// The current configuration (change it with ``update(_:)``).
    public internal(set) var configuration: Configuration
    let clock: any WallClock

    var instances: [String: GCEInstance] = [:]
    var addresses: [String: GCEAddress] = [:]
    var operations: [String: OperationRecord] = [:]
    var operationsByRequestID: [String: String] = [:]
    var lastDue: [String: Date] = [:]
    var tokens: [String: IssuedToken] = [:]
    var metadataTokens: [String: String] = [:]
    var serial: UInt64 = 0
    var ephemeralIPv4Count = 0
    var ephemeralIPv6Count = 0
    var faults: [InjectedFault] = []
    var gapRequests: [String: Int] = [:]
    var gapUntil: [String: Date] = [:]
    var deniedPermissions: Set<String> = []
    var subnetworks: [String: GCESubnetwork] = [:]
    var requestCount = 0
    var instanceCount = 0

    /// Every request received, in order, with its answer's status.
    public internal(set) var requests: [GCERecordedRequest] = []
    /// Every JWT assertion presented to the token endpoint, verbatim (so tests can check the
    /// signature with other tools too).
    public internal(set) var receivedAssertions: [String] = []

    /// - Parameter clock: drives operation completion, token expiry, timestamps and gaps.
    public init(configuration: Configuration = Configuration(), clock: any WallClock = SystemClock()) {
        self.configuration = configuration
        self.clock = clock
        let region = configuration.region
        subnetworks["default"] = GCESubnetwork(
            name: "default", id: String(5_000_000_000_000_000_000 as UInt64 + fnv1a("subnet-\(region)-default") % 1_000_000_000),
            region: region, ipCidrRange: "10.132.0.0/20", privateIpGoogleAccess: false, creationTimestamp: clock.now)
    }

    // MARK: Clients

    /// An HTTP client for requests made from VM `instanceName`: it reaches the metadata
    /// server as that VM, and suffers that VM's connectivity gaps.
    public nonisolated func client(for instanceName: String) -> GCEDoubleClient {
        GCEDoubleClient(double: self, instanceName: instanceName)
    }

    /// An HTTP client off the cloud (a laptop with a key file): no metadata server.
    public nonisolated func offCloudClient() -> GCEDoubleClient {
        GCEDoubleClient(double: self, instanceName: nil)
    }

    // MARK: Setup

    /// Changes the configuration (operation delay, page size, gap, wait mode, ...).
    public func update(_ change: @Sendable (inout Configuration) -> Void) {
        change(&configuration)
    }

    /// Creates a RUNNING instance with `nic0`.
    /// - Parameters:
    ///   - zone: defaults to the first zone.
    ///   - withEphemeralIPv4: gives nic0 an ephemeral ONE_TO_ONE_NAT access config named `External NAT`.
    ///   - stackType: `IPV4_ONLY` or `IPV4_IPV6`.
    ///   - withEphemeralIPv6: for `IPV4_IPV6`, an ephemeral DIRECT_IPV6 access config `External IPv6`.
    ///   - serviceAccountScopes: scopes of the attached service account; nil attaches none.
    @discardableResult
    public func createInstance(name: String, zone: String? = nil, withEphemeralIPv4: Bool = true,
                               stackType: String = "IPV4_ONLY", withEphemeralIPv6: Bool = false,
                               serviceAccountScopes: [String]? = [ComputeEngineDouble.cloudPlatformScope]) -> GCEInstance {
        precondition(instances[name] == nil, "instance \(name) exists")
        precondition(["IPV4_ONLY", "IPV4_IPV6"].contains(stackType), "stackType \(stackType) not simulated")
        let zone = zone ?? configuration.zones[0]
        precondition(configuration.zones.contains(zone), "zone \(zone) is not configured")
        let id = nextID()
        let count = instanceCount
        instanceCount += 1
        var nic = GCENetworkInterface(
            name: "nic0", network: "\(configuration.selfLinkBase)projects/\(configuration.projectID)/global/networks/default",
            subnetwork: "\(regionURL)/subnetworks/default",
            networkIP: "10.132.\(count / 250).\(count % 250 + 2)", stackType: stackType, fingerprint: "",
            accessConfigs: [], ipv6AccessConfigs: [], aliasIpRanges: [])
        nic.fingerprint = nextFingerprint()
        if withEphemeralIPv4 {
            nic.accessConfigs = [GCEAccessConfig(type: "ONE_TO_ONE_NAT", name: "External NAT", natIP: nextEphemeralIPv4(),
                                                 networkTier: "PREMIUM", isEphemeral: true)]
        }
        if withEphemeralIPv6 && stackType == "IPV4_IPV6" {
            nic.ipv6AccessConfigs = [GCEAccessConfig(type: "DIRECT_IPV6", name: "External IPv6",
                                                     externalIpv6: nextEphemeralIPv6(), externalIpv6PrefixLength: 96,
                                                     networkTier: "PREMIUM", isEphemeral: true)]
        }
        let instance = GCEInstance(
            name: name, id: id, zone: zone, selfLink: instanceSelfLink(name, zone: zone), status: "RUNNING",
            creationTimestamp: clock.now, nic0: nic,
            serviceAccountEmail: serviceAccountScopes == nil ? nil : configuration.serviceAccountEmail,
            scopes: serviceAccountScopes ?? [])
        instances[name] = instance
        return instance
    }

    /// Reserves a regional address (status RESERVED).
    /// - Parameters:
    ///   - ipVersion: defaults to `IPV6` when `ip` contains a colon, else `IPV4`.
    ///   - reportsIPVersion: false models an address reserved without `ipVersion`: answers omit
    ///     the field, and filters on `ipVersion = "IPV4"` do not match it.
    ///   - prefixLength: defaults to 96 for IPv6.
    ///   - createdAt: defaults to the clock's now.
    @discardableResult
    public func reserveAddress(name: String, ip: String, labels: [String: String] = [:], ipVersion: String? = nil,
                               reportsIPVersion: Bool = true, prefixLength: Int? = nil,
                               addressType: String = "EXTERNAL", networkTier: String = "PREMIUM",
                               description: String? = nil, createdAt: Date? = nil) -> GCEAddress {
        precondition(addresses[name] == nil, "address \(name) exists")
        precondition(!addresses.values.contains { $0.address == ip }, "address \(ip) is already reserved")
        let version = ipVersion ?? (ip.contains(":") ? "IPV6" : "IPV4")
        let address = GCEAddress(
            name: name, id: nextID(), address: ip, status: "RESERVED", addressType: addressType,
            ipVersion: reportsIPVersion ? version : nil,
            prefixLength: prefixLength ?? (version == "IPV6" ? 96 : nil),
            ipv6EndpointType: version == "IPV6" && addressType == "EXTERNAL" ? "VM" : nil,
            labels: labels, users: [], region: configuration.region,
            selfLink: "\(regionURL)/addresses/\(name)", creationTimestamp: createdAt ?? clock.now,
            networkTier: networkTier, description: description)
        addresses[name] = address
        return address
    }

    /// Attaches a reserved address to an instance's nic0 at once (no operation), replacing the
    /// access config of its family: the starting state of an adoption test.
    public func attachAddress(_ addressName: String, to instanceName: String) {
        guard let address = addresses[addressName], var instance = instances[instanceName] else {
            preconditionFailure("unknown address \(addressName) or instance \(instanceName)")
        }
        let ipv6 = address.isIPv6
        let old = ipv6 ? instance.nic0.ipv6AccessConfigs : instance.nic0.accessConfigs
        for config in old where !config.isEphemeral { release(ip: config.ip) }
        let config = ipv6
            ? GCEAccessConfig(type: "DIRECT_IPV6", name: "External IPv6", externalIpv6: address.address,
                              externalIpv6PrefixLength: address.prefixLength ?? 96, networkTier: address.networkTier,
                              isEphemeral: false)
            : GCEAccessConfig(type: "ONE_TO_ONE_NAT", name: "External NAT", natIP: address.address,
                              networkTier: address.networkTier, isEphemeral: false)
        if ipv6 { instance.nic0.ipv6AccessConfigs = [config] } else { instance.nic0.accessConfigs = [config] }
        instance.nic0.fingerprint = nextFingerprint()
        instances[instanceName] = instance
        addresses[addressName]?.status = "IN_USE"
        addresses[addressName]?.users = [instance.selfLink]
    }

    /// Deletes an instance: its static addresses go back to RESERVED; its pending operations
    /// fail; its clients lose all connectivity.
    public func deleteInstance(_ name: String) {
        guard let instance = instances.removeValue(forKey: name) else { return }
        for config in instance.nic0.accessConfigs + instance.nic0.ipv6AccessConfigs where !config.isEphemeral {
            release(ip: config.ip)
        }
    }

    /// Issues an access token directly (as if a key file had been exchanged).
    public func issueToken(scopes: [String] = [ComputeEngineDouble.cloudPlatformScope]) -> String {
        mintToken(scopes: scopes, email: configuration.serviceAccountEmail)
    }

    /// Invalidates every access token issued so far.
    public func revokeAllTokens() {
        tokens.removeAll()
        metadataTokens.removeAll()
    }

    // MARK: Faults

    /// Makes the next `count` matching requests answer `status` (429 or 5xx, say) with a
    /// Google error body and, when given, `Retry-After: <seconds>`.
    /// - Parameter matching: a substring of `host/path` the request must contain; nil
    ///   matches every compute and token request (never the metadata server).
    public func injectFailure(status: Int, retryAfter: Int? = nil, count: Int = 1, matching: String? = nil) {
        faults.append(InjectedFault(status: status, retryAfter: retryAfter, isTimeout: false, remaining: count,
                                    match: matching))
    }

    /// Makes the next `count` matching requests fail in transport (``HTTPTransportError``).
    public func injectTransportFailure(count: Int = 1, isTimeout: Bool = true, matching: String? = nil) {
        faults.append(InjectedFault(status: nil, retryAfter: nil, isTimeout: isTimeout, remaining: count,
                                    match: matching))
    }

    /// Sets the gap every VM suffers after its IPv4 access config is deleted (nil: none).
    public func setConnectivityGap(_ gap: ConnectivityGap?) {
        configuration.connectivityGap = gap
    }

    /// Starts a connectivity gap for one VM now.
    public func startConnectivityGap(for instanceName: String, _ gap: ConnectivityGap) {
        switch gap {
        case .requests(let count): gapRequests[instanceName] = count
        case .duration(let duration): gapUntil[instanceName] = clock.now.addingTimeInterval(duration.seconds)
        }
    }

    /// Makes methods needing IAM `permission` (e.g. `compute.instances.addAccessConfig`) answer 403.
    /// `compute.addresses.use` is checked on the reserved address an access config names;
    /// `addresses.testIamPermissions` leaves every denied permission out of its answer.
    public func deny(permission: String) { deniedPermissions.insert(permission) }

    /// Grants a permission denied earlier.
    public func allow(permission: String) { deniedPermissions.remove(permission) }

    // MARK: Introspection

    /// Completes every operation whose time has come (requests do this too).
    public func settle() {
        completeDueOperations()
    }

    /// An instance as it is now.
    public func instance(_ name: String) -> GCEInstance? {
        settle()
        return instances[name]
    }

    /// The IPv4 access configs of an instance's nic0 now.
    public func accessConfigs(of instanceName: String) -> [GCEAccessConfig] {
        instance(instanceName)?.nic0.accessConfigs ?? []
    }

    /// The IPv6 access configs of an instance's nic0 now.
    public func ipv6AccessConfigs(of instanceName: String) -> [GCEAccessConfig] {
        instance(instanceName)?.nic0.ipv6AccessConfigs ?? []
    }

    /// An address as it is now.
    public func address(_ name: String) -> GCEAddress? {
        settle()
        return addresses[name]
    }

    /// Every address, by name.
    public func allAddresses() -> [GCEAddress] {
        settle()
        return addresses.values.sorted { $0.name < $1.name }
    }

    /// An operation as it is now.
    public func operation(_ name: String) -> GCEOperation? {
        settle()
        return operations[name]?.operation
    }

    /// Every operation, in the order they were requested.
    public func allOperations() -> [GCEOperation] {
        settle()
        return operations.values.sorted { $0.sequence < $1.sequence }.map(\.operation)
    }

    /// The requests that a given Compute method served (`compute.instances.addAccessConfig`, ...).
    public func requests(for methodID: String) -> [GCERecordedRequest] {
        requests.filter { $0.methodID == methodID }
    }

    /// Forgets the recorded requests.
    public func clearRequests() { requests.removeAll() }

    // MARK: Naming

    var projectURL: String { "\(configuration.selfLinkBase)projects/\(configuration.projectID)" }
    var regionURL: String { "\(projectURL)/regions/\(configuration.region)" }
    func zoneURL(_ zone: String) -> String { "\(projectURL)/zones/\(zone)" }
    func instanceSelfLink(_ name: String, zone: String) -> String { "\(zoneURL(zone))/instances/\(name)" }

    func nextID() -> String {
        serial += 1
        return String(4_000_000_000_000_000_000 as UInt64 + serial &* 7_919_113)
    }

    func nextFingerprint() -> String {
        serial += 1
        var value = fnv1a("fingerprint-\(serial)")
        let bytes = (0..<8).map { _ -> UInt8 in
            defer { value >>= 8 }
            return UInt8(truncatingIfNeeded: value)
        }
        return Data(bytes).base64EncodedString()
    }

    func nextEphemeralIPv4() -> String {
        while true {
            ephemeralIPv4Count += 1
            let ip = "34.140.\(ephemeralIPv4Count / 250).\(ephemeralIPv4Count % 250 + 1)"
            if !addresses.values.contains(where: { $0.address == ip }) { return ip }
        }
    }

    func nextEphemeralIPv6() -> String {
        ephemeralIPv6Count += 1
        return "2600:1900:4041:\(String(ephemeralIPv6Count, radix: 16))::"
    }

    func mintToken(scopes: [String], email: String) -> String {
        serial += 1
        let token = "ya29.sim-\(String(fnv1a("token-\(serial)-\(clock.now.timeIntervalSince1970)"), radix: 16))-\(serial)"
        tokens[token] = IssuedToken(scopes: scopes, expiry: clock.now.addingTimeInterval(configuration.tokenLifetime.seconds),
                                    email: email)
        return token
    }

    /// Marks the reserved address holding `ip` free again.
    func release(ip: String?) {
        guard let ip, let name = addresses.values.first(where: { $0.address == ip })?.name else { return }
        addresses[name]?.status = "RESERVED"
        addresses[name]?.users = []
    }
}

/// FNV-1a, 64 bit: cheap stable hashing for fingerprints, tokens and page tokens.
func fnv1a(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    return hash
}

/// Requests from one VM (or from off the cloud) into a ``ComputeEngineDouble``.
public struct GCEDoubleClient: HTTPClient {
    /// The double served.
    public let double: ComputeEngineDouble
    /// The VM the requests come from; nil off the cloud.
    public let instanceName: String?

    /// Serves `request` as the double would answer it from this VM; throws
    /// ``HTTPTransportError`` where the real network would fail.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await double.handle(request, from: instanceName)
    }
}
