import KubeIPCore
import KubeIPHTTP
import KubeIPHTTPServer
import KubeIPSimulator

/// The test hooks over HTTP, under `/_double/` (a path no apiserver serves). No token needed;
/// bodies and answers are JSON. See ``KubernetesAPIDouble/serveAdmin(_:)`` for the routes.
extension KubernetesAPIDouble {
    /// Routes:
    /// - `POST /_double/nodes` `{"name", "providerID"?, "labels"?, "taints"?: [{key, value?, effect}], "addresses"?: [{type, address}]}`
    /// - `PUT /_double/nodes/<name>/addresses` `{"addresses": [...], "delaySeconds"?}` (the cloud-controller-manager)
    /// - `PUT /_double/nodes/<name>/external-ip` `{"ip": "203.0.113.7" | null, "delaySeconds"?}`
    /// - `POST /_double/nodes/<name>/taints` `{key, value?, effect?}`; `DELETE /_double/nodes/<name>/taints/<key>[?effect=]`
    /// - `POST /_double/nodes/<name>/deletion` `{"finalizer"?}`; `DELETE /_double/nodes/<name>` (gone at once)
    /// - `GET /_double/nodes/<name>`, `GET /_double/leases`
    /// - `POST /_double/namespaces` `{"name"}`
    /// - `GET /_double/requests` `{"requests": [{user, verb, apiGroup, resource, subresource, namespace, name, path, status}]}`;
    ///   `DELETE /_double/requests`; `GET /_double/permissions?user=<name>` `{"permissions": ["verb group/resource in ns", ...]}`
    /// - `GET /_double/events[?namespace=]` `{"items": [events.k8s.io/v1 Events]}`
    /// - `POST /_double/faults` `{"status", "count"?, "retryAfter"?, "verb"?, "resource"?, "name"?}`
    func serveAdmin(_ request: HTTPServerRequest) -> HTTPServerResponse {
        let segments = Array(request.path.split(separator: "/").map { QuotedText.percentDecoded($0) }.dropFirst())
        let body = (try? JSONValue(parsing: request.body)) ?? [:]
        func bad(_ message: String) -> HTTPServerResponse { respond(["error": .string(message)], status: 400) }
        func missing() -> HTTPServerResponse { respond(["error": "no such node"], status: 404) }
        func seconds(_ value: JSONValue?) -> Duration? {
            guard case .number(let number) = value ?? .null, number > 0 else { return nil }
            return .milliseconds(Int64(number * 1000))
        }
        var shape = segments
        if shape.count >= 2 && shape[0] == "nodes" { shape[1] = "*" }
        if shape.count == 4 && shape[2] == "taints" { shape[3] = "*" }
        switch "\(request.method) /\(shape.joined(separator: "/"))" {
        case "GET /healthz":
            return .text("ok")
        case "POST /nodes":
            guard let name = body["name"]?.stringValue, !name.isEmpty else { return bad("name is required") }
            guard node(name) == nil else { return bad("node \(name) exists") }
            let node = addNode(name: name, providerID: body["providerID"]?.stringValue ?? "",
                               labels: body["labels"]?.stringMap ?? [:],
                               taints: (body["taints"]?.arrayValue ?? []).map(Self.taint),
                               addresses: body["addresses"]?.arrayValue.map { $0.map(Self.address) })
            return respond(node, status: 201)
        case "GET /nodes/*":
            return node(segments[1]).map { respond($0) } ?? missing()
        case "DELETE /nodes/*":
            guard node(segments[1]) != nil else { return missing() }
            deleteNode(segments[1])
            return respond([:])
        case "PUT /nodes/*/addresses":
            guard node(segments[1]) != nil else { return missing() }
            guard let addresses = body["addresses"]?.arrayValue else { return bad("addresses is required") }
            setNodeAddresses(segments[1], addresses.map(Self.address), after: seconds(body["delaySeconds"]))
            return respond(node(segments[1]) ?? [:])
        case "PUT /nodes/*/external-ip":
            guard node(segments[1]) != nil else { return missing() }
            setExternalIP(segments[1], body["ip"]?.stringValue, after: seconds(body["delaySeconds"]))
            return respond(node(segments[1]) ?? [:])
        case "POST /nodes/*/taints":
            guard node(segments[1]) != nil else { return missing() }
            guard body["key"]?.stringValue != nil else { return bad("key is required") }
            addTaint(Self.taint(body), to: segments[1])
            return respond(node(segments[1]) ?? [:])
        case "DELETE /nodes/*/taints/*":
            guard node(segments[1]) != nil else { return missing() }
            removeTaint(key: segments[3], effect: request.query("effect"), from: segments[1])
            return respond(node(segments[1]) ?? [:])
        case "POST /nodes/*/deletion":
            guard node(segments[1]) != nil else { return missing() }
            markNodeForDeletion(segments[1], finalizer: body["finalizer"]?.stringValue ?? "kubeip.test/hold")
            return respond(node(segments[1]) ?? [:])
        case "GET /leases":
            return respond(["items": .array(leases())])
        case "POST /namespaces":
            guard let name = body["name"]?.stringValue, !name.isEmpty else { return bad("name is required") }
            createNamespace(name)
            return respond(store[KubernetesResourceType.namespaces.storageKey]?[name] ?? [:], status: 201)
        case "GET /requests":
            return respond(["requests": .array(requests.map(Self.record))])
        case "DELETE /requests":
            clearRequests()
            return respond([:])
        case "GET /permissions":
            return respond(["permissions": .array(permissionsUsed(by: request.query("user") ?? "").map { .string($0) })])
        case "GET /events":
            return respond(["items": .array(events(namespace: request.query("namespace")))])
        case "POST /faults":
            guard let status = body["status"]?.intValue else { return bad("status is required") }
            injectFailure(status: status, count: body["count"]?.intValue ?? 1, retryAfter: body["retryAfter"]?.intValue,
                          verb: body["verb"]?.stringValue, resource: body["resource"]?.stringValue,
                          name: body["name"]?.stringValue)
            return respond([:], status: 201)
        default:
            return respond(["error": .string("no test hook \(request.method) \(request.path)")], status: 404)
        }
    }

    static func taint(_ value: JSONValue) -> Taint {
        Taint(key: value["key"]?.stringValue ?? "", value: value["value"]?.stringValue ?? "",
              effect: value["effect"]?.stringValue ?? "NoSchedule")
    }

    static func address(_ value: JSONValue) -> NodeAddress {
        NodeAddress(type: value["type"]?.stringValue ?? "", address: value["address"]?.stringValue ?? "")
    }

    static func record(_ request: KubernetesRequestAttributes) -> JSONValue {
        ["user": .string(request.user), "verb": .string(request.verb), "apiGroup": .string(request.apiGroup),
         "resource": .string(request.resource), "subresource": .string(request.subresource),
         "namespace": .string(request.namespace), "name": .string(request.name), "path": .string(request.path),
         "resourceRequest": .bool(request.isResourceRequest), "status": .number(Double(request.status))]
    }
}
