import KubeIPCore
import KubeIPHTTP
import KubeIPHTTPServer
import KubeIPSimulator
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An in-memory Kubernetes API server with the real one's semantics for what kubeip uses:
/// core/v1 `nodes` (with `nodes/status`), `namespaces` and `events`, coordination.k8s.io/v1
/// `leases`, events.k8s.io/v1 `events`, plus the discovery documents kubectl needs.
///
/// It follows the apiserver: one global `resourceVersion` counter, `uid`/`creationTimestamp`
/// set on create, 409 `AlreadyExists` and `Conflict` (stale resourceVersion, failed delete
/// preconditions), 404 `NotFound` worded as the registry words it, JSON, merge and strategic
/// merge patches, the `/status` split, the strategies' validation (422 `Invalid`), decoding
/// errors (400, e.g. a `MicroTime` without six fraction digits), bearer-token authentication
/// (401) and RBAC (403) with the real messages. Every request is recorded with its RBAC
/// attributes and status. Test hooks play the kubelet, the cloud-controller-manager and the
/// node lifecycle controller; ``injectFailure(status:count:retryAfter:verb:resource:name:)``
/// makes requests fail.
///
/// Reach it in-process with ``client(token:)`` (an ``HTTPClient``), or over HTTP by serving
/// ``handle(_:)`` with ``HTTPServer`` (the `kube-api-double` executable does).
///
/// Not served: watch (refused with 405), server-side apply (`application/apply-patch+yaml`,
/// refused with 415), protobuf and CBOR, field managers and `managedFields`, OpenAPI schemas
/// (only the PATCH operations kubectl's validation looks for), other resources (pods: so
/// `kubectl describe node` fails), namespace finalization (a deleted namespace goes at once).
public actor KubernetesAPIDouble {
    /// Users, authorization and the world at start.
    public struct Configuration: Sendable {
        /// Bearer token → user.
        public var users: [String: KubernetesUser]
        /// RBAC to enforce; nil lets every authenticated user do anything.
        public var rbac: RBACPolicy?
        /// Namespaces that exist at start.
        public var namespaces: [String]
        /// Whether creating an object in a missing namespace creates the namespace (instead of
        /// the real 404 `namespaces "x" not found`).
        public var createsNamespacesOnDemand: Bool
        /// What `/api` reports as the server address.
        public var serverAddress: String

        public init(users: [String: KubernetesUser] = [:], rbac: RBACPolicy? = nil,
                    namespaces: [String] = ["default", "kube-system", "kube-public", "kube-node-lease"],
                    createsNamespacesOnDemand: Bool = false, serverAddress: String = "127.0.0.1:6443") {
            self.users = users
            self.rbac = rbac
            self.namespaces = namespaces
            self.createsNamespacesOnDemand = createsNamespacesOnDemand
            self.serverAddress = serverAddress
        }
    }

    /// An address in `status.addresses`.
    public struct NodeAddress: Sendable, Hashable {
        /// `InternalIP`, `ExternalIP`, `Hostname`, `InternalDNS`, `ExternalDNS`.
        public var type: String
        public var address: String
        public init(type: String, address: String) {
            self.type = type
            self.address = address
        }
        var json: JSONValue { ["type": .string(type), "address": .string(address)] }
    }

    /// A taint in `spec.taints`.
    public struct Taint: Sendable, Hashable {
        public var key: String
        public var value: String
        public var effect: String
        public init(key: String, value: String = "", effect: String = "NoSchedule") {
            self.key = key
            self.value = value
            self.effect = effect
        }
        var json: JSONValue {
            var members: [String: JSONValue] = ["key": .string(key), "effect": .string(effect)]
            if !value.isEmpty { members["value"] = .string(value) }
            return .object(members)
        }
    }

    struct Fault: Sendable {
        var status: Int
        var retryAfter: Int?
        var remaining: Int
        var verb: String?
        var resource: String?
        var name: String?
    }

    /// The configuration in force (change users and RBAC with ``update(_:)``).
    public internal(set) var configuration: Configuration
    let clock: any WallClock
    /// storage key → `namespace/name` (or `name`) → the stored object (events in core/v1 form).
    var store: [String: [String: JSONValue]] = [:]
    var resourceVersionCounter = 1000
    var serial: UInt64 = 0
    var faults: [Fault] = []
    let startedAt: Date
    /// The request being served: its `fieldValidation` and the warnings it earned.
    var fieldValidation = "Warn"
    var warnings: [String] = []

    /// Every request, in order, as RBAC attributes with its answer's status.
    public internal(set) var requests: [KubernetesRequestAttributes] = []

    public init(configuration: Configuration = Configuration(), clock: any WallClock = SystemClock()) {
        self.configuration = configuration
        self.clock = clock
        self.startedAt = clock.now
        var namespaces: [String: JSONValue] = [:]
        for (offset, name) in configuration.namespaces.enumerated() {
            var object = Self.newNamespace(name)
            object.set(["metadata", "uid"], .string(Self.uid(serial: UInt64(1_000_000 + offset))))
            object.set(["metadata", "creationTimestamp"], .string(KubernetesTime.formatTime(clock.now)))
            object.set(["metadata", "resourceVersion"], .string(String(1000 - configuration.namespaces.count + offset)))
            namespaces[name] = object
        }
        store[KubernetesResourceType.namespaces.storageKey] = namespaces
    }

    // MARK: Clients

    /// An HTTP client whose requests carry `Authorization: Bearer <token>` (none when nil)
    /// unless they set their own; URLs may name any host: only the path and query count.
    public nonisolated func client(token: String?) -> KubernetesDoubleClient {
        KubernetesDoubleClient(double: self, token: token)
    }

    /// Changes the configuration (users, RBAC, namespaces-on-demand).
    public func update(_ change: @Sendable (inout Configuration) -> Void) {
        change(&configuration)
    }

    // MARK: Test hooks (the kubelet, the cloud-controller-manager, the node lifecycle controller)

    /// Registers a Node, as a kubelet does: `spec.providerID`, labels (the hostname label is
    /// added), taints, and `status.addresses` (by default only an InternalIP and Hostname).
    @discardableResult
    public func addNode(name: String, providerID: String = "", labels: [String: String] = [:], taints: [Taint] = [],
                        addresses: [NodeAddress]? = nil) -> JSONValue {
        var allLabels = ["kubernetes.io/hostname": name, "kubernetes.io/os": "linux"]
        for (key, value) in labels { allLabels[key] = value }
        var spec: [String: JSONValue] = [:]
        if !providerID.isEmpty { spec["providerID"] = .string(providerID) }
        if !taints.isEmpty { spec["taints"] = .array(taints.map(\.json)) }
        let count = (store[KubernetesResourceType.nodes.storageKey]?.count ?? 0) + 1
        let nodeAddresses = addresses ?? [NodeAddress(type: "InternalIP", address: "10.0.0.\(count % 250 + 1)"),
                                          NodeAddress(type: "Hostname", address: name)]
        var node: JSONValue = [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(name), "labels": .object(allLabels.mapValues { .string($0) })],
            "spec": .object(spec),
            "status": ["addresses": .array(nodeAddresses.map(\.json)),
                       "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status"]],
                       "nodeInfo": ["kubeletVersion": .string(KubernetesDiscovery.gitVersion),
                                    "kubeProxyVersion": .string(KubernetesDiscovery.gitVersion), "architecture": "amd64",
                                    "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)",
                                    "kernelVersion": "6.1.0-28-cloud-amd64", "containerRuntimeVersion": "containerd://1.7.24",
                                    "machineID": .string(String(repeating: "0", count: 31) + String(count % 10)),
                                    "systemUUID": .string(newUID()), "bootID": .string(newUID())]],
        ]
        precondition(store[KubernetesResourceType.nodes.storageKey]?[name] == nil, "node \(name) exists")
        stampNew(&node)
        store[KubernetesResourceType.nodes.storageKey, default: [:]][name] = node
        return node
    }

    /// Sets a Node's `status.addresses`, as the cloud-controller-manager does once the cloud
    /// reports a change; after `delay` on the clock when given (the call returns at once).
    public func setNodeAddresses(_ name: String, _ addresses: [NodeAddress], after delay: Duration? = nil) {
        guard let delay, delay > .zero else {
            modifyNode(name) { $0.set(["status", "addresses"], .array(addresses.map(\.json))) }
            return
        }
        let clock = self.clock
        Task {
            try? await clock.sleep(for: delay)
            self.setNodeAddresses(name, addresses)
        }
    }

    /// The ExternalIP (if any) replaced by `ip` in a Node's addresses, other addresses kept.
    public func setExternalIP(_ name: String, _ ip: String?, after delay: Duration? = nil) {
        let current = (node(name)?[path: ["status", "addresses"]]?.arrayValue ?? []).compactMap { entry -> NodeAddress? in
            guard let type = entry["type"]?.stringValue, let address = entry["address"]?.stringValue else { return nil }
            return NodeAddress(type: type, address: address)
        }
        var next = current.filter { $0.type != "ExternalIP" }
        if let ip { next.append(NodeAddress(type: "ExternalIP", address: ip)) }
        setNodeAddresses(name, next, after: delay)
    }

    /// Adds a taint to a Node (replacing one with the same key and effect).
    public func addTaint(_ taint: Taint, to name: String) {
        modifyNode(name) { node in
            var taints = node[path: ["spec", "taints"]]?.arrayValue ?? []
            taints.removeAll { $0["key"]?.stringValue == taint.key && $0["effect"]?.stringValue == taint.effect }
            taints.append(taint.json)
            node.set(["spec", "taints"], .array(taints))
        }
    }

    /// Removes a Node's taints with `key` (and `effect`, when given).
    public func removeTaint(key: String, effect: String? = nil, from name: String) {
        modifyNode(name) { node in
            var taints = node[path: ["spec", "taints"]]?.arrayValue ?? []
            taints.removeAll { $0["key"]?.stringValue == key && (effect == nil || $0["effect"]?.stringValue == effect) }
            node.set(["spec", "taints"], taints.isEmpty ? nil : .array(taints))
        }
    }

    /// Marks a Node as being deleted: `deletionTimestamp` set and a finalizer holding it, as a
    /// Node whose deletion waits on a controller looks. ``deleteNode(_:)`` finishes the job.
    public func markNodeForDeletion(_ name: String, finalizer: String = "kubeip.test/hold") {
        modifyNode(name) { node in
            var finalizers = node[path: ["metadata", "finalizers"]]?.arrayValue ?? []
            if !finalizers.contains(.string(finalizer)) { finalizers.append(.string(finalizer)) }
            node.set(["metadata", "finalizers"], .array(finalizers))
            node.set(["metadata", "deletionTimestamp"], .string(KubernetesTime.formatTime(clock.now)))
            node.set(["metadata", "deletionGracePeriodSeconds"], 0)
        }
    }

    /// Removes a Node at once (finalizers or not).
    public func deleteNode(_ name: String) {
        store[KubernetesResourceType.nodes.storageKey]?[name] = nil
        _ = nextResourceVersion()
    }

    /// Creates a namespace (no-op when it exists).
    public func createNamespace(_ name: String) {
        guard store[KubernetesResourceType.namespaces.storageKey]?[name] == nil else { return }
        var object = Self.newNamespace(name)
        stampNew(&object)
        store[KubernetesResourceType.namespaces.storageKey, default: [:]][name] = object
    }

    /// Makes the next `count` matching requests answer `status` (429 with `Retry-After`, 500,
    /// 409, ...) before any other check but authentication.
    /// - Parameters:
    ///   - verb: an RBAC verb (`update`, `patch`, `create`, ...); nil matches any.
    ///   - resource: `leases`, `nodes`, `nodes/status`, `events`; nil matches any resource request.
    public func injectFailure(status: Int, count: Int = 1, retryAfter: Int? = nil, verb: String? = nil,
                              resource: String? = nil, name: String? = nil) {
        faults.append(Fault(status: status, retryAfter: retryAfter, remaining: count, verb: verb, resource: resource,
                            name: name))
    }

    // MARK: Introspection

    /// A Node as stored now.
    public func node(_ name: String) -> JSONValue? {
        store[KubernetesResourceType.nodes.storageKey]?[name]
    }

    /// A Lease as stored now.
    public func lease(namespace: String, name: String) -> JSONValue? {
        store[KubernetesResourceType.leases.storageKey]?["\(namespace)/\(name)"]
    }

    /// Every Lease, by namespace then name.
    public func leases() -> [JSONValue] {
        (store[KubernetesResourceType.leases.storageKey] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
    }

    /// Every Event in events.k8s.io/v1 form (in `namespace`, when given), in creation order.
    public func events(namespace: String? = nil) -> [JSONValue] {
        (store["events"] ?? [:]).values
            .filter { namespace == nil || $0.string(at: ["metadata", "namespace"]) == namespace }
            .sorted { (Int($0.string(at: ["metadata", "resourceVersion"])) ?? 0) < (Int($1.string(at: ["metadata", "resourceVersion"])) ?? 0) }
            .map(KubernetesEventConversion.toEventsV1)
    }

    /// The current value of the global resourceVersion counter.
    public var currentResourceVersion: String { String(resourceVersionCounter) }

    /// Forgets the recorded requests.
    public func clearRequests() { requests.removeAll() }

    /// The distinct permissions the requests of `user` used (successful or not), as
    /// `verb group/resource[/subresource]` with ` in <namespace>` for namespaced requests;
    /// non-resource requests left out. Compare with a shipped Role/ClusterRole.
    public func permissionsUsed(by user: String) -> [String] {
        var seen: [String] = []
        for request in requests where request.user == user && request.isResourceRequest {
            let resource = request.subresource.isEmpty ? request.resource : "\(request.resource)/\(request.subresource)"
            var text = "\(request.verb) \(request.apiGroup.isEmpty ? "" : request.apiGroup + "/")\(resource)"
            if !request.namespace.isEmpty { text += " in \(request.namespace)" }
            if !seen.contains(text) { seen.append(text) }
        }
        return seen.sorted()
    }

    // MARK: Bookkeeping

    func nextResourceVersion() -> String {
        resourceVersionCounter += 1
        return String(resourceVersionCounter)
    }

    /// A random-looking version 4 UUID, deterministic per double.
    func newUID() -> String {
        serial += 1
        return Self.uid(serial: serial)
    }

    static func uid(serial: UInt64) -> String {
        var state = serial &* 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let hex = (String(next(), radix: 16) + String(next(), radix: 16)).padding(toLength: 32)
        let chars = Array(hex)
        let part = { (from: Int, to: Int) in String(chars[from..<to]) }
        return "\(part(0, 8))-\(part(8, 12))-4\(part(13, 16))-a\(part(17, 20))-\(part(20, 32))"
    }

    /// `metadata.uid`, `creationTimestamp` and a new `resourceVersion` for a new object.
    func stampNew(_ object: inout JSONValue) {
        object.set(["metadata", "uid"], .string(newUID()))
        object.set(["metadata", "creationTimestamp"], .string(KubernetesTime.formatTime(clock.now)))
        object.set(["metadata", "resourceVersion"], .string(nextResourceVersion()))
    }

    func modifyNode(_ name: String, _ change: (inout JSONValue) -> Void) {
        guard var node = store[KubernetesResourceType.nodes.storageKey]?[name] else { return }
        change(&node)
        node.set(["metadata", "resourceVersion"], .string(nextResourceVersion()))
        store[KubernetesResourceType.nodes.storageKey]?[name] = node
    }

    static func newNamespace(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Namespace",
         "metadata": ["name": .string(name), "labels": ["kubernetes.io/metadata.name": .string(name)]],
         "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"]]
    }
}

private extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? String(prefix(length)) : self + String(repeating: "0", count: length - count)
    }
}

/// Requests into a ``KubernetesAPIDouble`` as one bearer token.
public struct KubernetesDoubleClient: HTTPClient {
    public let double: KubernetesAPIDouble
    public let token: String?

    /// Serves `request` in-process: the URL's path and query are what count.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var target = request.url
        if let scheme = target.firstRange(of: "://") {
            let rest = target[scheme.upperBound...]
            target = rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { String(rest[$0...]) } ?? "/"
        }
        if target.hasPrefix("?") { target = "/" + target }
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        var headers = request.headers
        if let token, request.header("Authorization") == nil { headers.append(HTTPHeader("Authorization", "Bearer \(token)")) }
        let served = await double.handle(HTTPServerRequest(method: request.method, target: target, headers: headers,
                                                           body: request.body))
        return HTTPResponse(status: served.status, headers: served.headers, body: served.body)
    }
}
