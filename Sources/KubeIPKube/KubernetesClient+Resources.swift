import KubeIPCore
import KubeIPHTTP

extension KubernetesClient {
    // MARK: Nodes (core v1, cluster-scoped)

    /// `GET /api/v1/nodes/{name}`.
    public func getNode(_ name: String) async throws -> Node {
        try await perform(try nodeCall("get", "GET", name), as: Node.self)
    }

    /// `PATCH /api/v1/nodes/{name}` with a JSON Patch (`application/json-patch+json`); a failed
    /// `test` operation answers 422 (``KubeAPIError/Reason/invalid``) and changes nothing.
    public func patchNode(_ name: String, _ patch: JSONPatch) async throws -> Node {
        try await patchNode(name, body: patch, type: .json)
    }

    /// `PATCH /api/v1/nodes/{name}` with `body` read as `type` (merge or strategic merge patch).
    public func patchNode(_ name: String, body: some Encodable & Sendable, type: PatchType) async throws -> Node {
        var call = try nodeCall("patch", "PATCH", name)
        call.body = try Self.encode(body)
        call.contentType = type.contentType
        return try await perform(call, as: Node.self)
    }

    // MARK: Leases (coordination.k8s.io/v1, namespaced)

    /// `GET …/namespaces/{namespace}/leases/{name}`.
    public func getLease(namespace: String, name: String) async throws -> Lease {
        try await perform(try leaseCall("get", "GET", namespace, name), as: Lease.self)
    }

    /// `POST …/namespaces/{namespace}/leases`: atomic; 409 ``KubeAPIError/Reason/alreadyExists``
    /// when a lease of that name exists. In `namespace`, else in the lease's `metadata.namespace`.
    public func createLease(_ lease: Lease, namespace: String? = nil) async throws -> Lease {
        let space = try required(namespace ?? lease.metadata.namespace, "namespace", of: "lease")
        _ = try required(lease.metadata.name, "name", of: "lease")
        var call = try leaseCall("create", "POST", space, nil)
        call.resource = "leases/\(space)/\(lease.metadata.name ?? "")"
        call.body = try Self.encode(lease)
        call.contentType = "application/json"
        return try await perform(call, as: Lease.self)
    }

    /// `PUT …/namespaces/{namespace}/leases/{name}`: carries `metadata.resourceVersion`, so a
    /// lease changed since it was read answers 409 ``KubeAPIError/Reason/conflict``.
    public func updateLease(_ lease: Lease) async throws -> Lease {
        let space = try required(lease.metadata.namespace, "namespace", of: "lease")
        let name = try required(lease.metadata.name, "name", of: "lease")
        _ = try required(lease.metadata.resourceVersion, "resourceVersion", of: "lease \(name)")
        var call = try leaseCall("update", "PUT", space, name)
        call.body = try Self.encode(lease)
        call.contentType = "application/json"
        return try await perform(call, as: Lease.self)
    }

    /// `DELETE …/namespaces/{namespace}/leases/{name}` with DeleteOptions; with a
    /// `preconditionResourceVersion`, a lease changed since it was read is not deleted (409).
    public func deleteLease(namespace: String, name: String, preconditionResourceVersion: String?) async throws {
        var call = try leaseCall("delete", "DELETE", namespace, name)
        call.body = try Self.encode(DeleteOptions(resourceVersion: preconditionResourceVersion))
        call.contentType = "application/json"
        _ = try await send(call)
    }

    // MARK: Events (events.k8s.io/v1, namespaced)

    /// `POST /apis/events.k8s.io/v1/namespaces/{namespace}/events`.
    public func createEvent(namespace: String, _ event: Event) async throws -> Event {
        let space = try segment(namespace, "namespace")
        let label = event.metadata.name ?? event.metadata.generateName.map { $0 + "…" } ?? ""
        let call = Call(verb: "create", method: "POST", path: "/apis/events.k8s.io/v1/namespaces/\(space)/events",
                        resource: "events/\(namespace)/\(label)", apiGroup: "events.k8s.io",
                        body: try Self.encode(event), contentType: "application/json")
        return try await perform(call, as: Event.self)
    }

    // MARK: Paths

    private func nodeCall(_ verb: String, _ method: String, _ name: String) throws -> Call {
        Call(verb: verb, method: method, path: "/api/v1/nodes/\(try segment(name, "node name"))",
             resource: "nodes/\(name)", apiGroup: "")
    }

    private func leaseCall(_ verb: String, _ method: String, _ namespace: String, _ name: String?) throws -> Call {
        var path = "/apis/coordination.k8s.io/v1/namespaces/\(try segment(namespace, "namespace"))/leases"
        if let name { path += "/" + (try segment(name, "lease name")) }
        return Call(verb: verb, method: method, path: path, resource: "leases/\(namespace)/\(name ?? "")",
                    apiGroup: "coordination.k8s.io")
    }

    /// `name` percent-encoded as one path segment; empty, `.` and `..` are refused (the API
    /// allows none of them, and `..` would change the path).
    private func segment(_ name: String, _ what: String) throws -> String {
        guard !name.isEmpty, name != ".", name != ".." else {
            throw KubeIPError(.invalidSetting, "'\(name)' is not a valid Kubernetes \(what)")
        }
        return PercentEncoding.encode(name)
    }

    private func required(_ value: String?, _ field: String, of what: String) throws -> String {
        guard let value, !value.isEmpty else {
            throw KubeIPError(.invalidSetting, "the \(what) has no metadata.\(field)")
        }
        return value
    }
}

/// `DeleteOptions` with a resourceVersion precondition.
private struct DeleteOptions: Encodable {
    var kind = "DeleteOptions"
    var apiVersion = "v1"
    var preconditions: Preconditions?

    struct Preconditions: Encodable {
        var resourceVersion: String
    }

    init(resourceVersion: String?) {
        preconditions = resourceVersion.map { Preconditions(resourceVersion: $0) }
    }
}
