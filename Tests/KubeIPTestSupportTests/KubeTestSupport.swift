import KubeIPHTTP
import KubeIPSimulator
import KubeIPTestSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

let adminToken = "admin-token"
let kubeipToken = "kubeip-token"
let kubeipUser = "system:serviceaccount:kube-system:kubeip"

/// A double with an admin (system:masters) and kubeip's service account; RBAC when given.
func makeDouble(rbac: RBACPolicy? = nil, clock: ManualClock = ManualClock()) -> KubernetesAPIDouble {
    KubernetesAPIDouble(configuration: .init(
        users: [adminToken: KubernetesUser(name: "admin", groups: ["system:masters"]),
                kubeipToken: .serviceAccount(namespace: "kube-system", name: "kubeip")],
        rbac: rbac), clock: clock)
}

/// One answer: status, parsed body, headers.
struct Answer {
    var status: Int
    var body: JSONValue
    var headers: [HTTPHeader]

    subscript(path: String...) -> JSONValue? { body[path: path] }
    var message: String { body["message"]?.stringValue ?? "" }
    var reason: String { body["reason"]?.stringValue ?? "" }
    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
}

extension JSONValue {
    subscript(path path: [String]) -> JSONValue? {
        var current: JSONValue? = self
        for key in path { current = current?[key] }
        return current
    }
}

/// Sends one request through ``KubernetesAPIDouble/client(token:)``.
func send(_ double: KubernetesAPIDouble, _ method: String, _ path: String, _ body: JSONValue? = nil,
          contentType: String = "application/json", token: String? = adminToken, rawBody: String? = nil,
          accept: String? = nil) async -> Answer {
    var headers: [HTTPHeader] = accept.map { [HTTPHeader("Accept", $0)] } ?? []
    var bytes: [UInt8] = []
    if let rawBody { bytes = Array(rawBody.utf8) } else if let body { bytes = body.bytes }
    if !bytes.isEmpty { headers.append(HTTPHeader("Content-Type", contentType)) }
    let response = try! await double.client(token: token).send(
        HTTPRequest(method: method, url: "https://kubernetes.default.svc\(path)", headers: headers, body: bytes))
    let parsed = (try? JSONValue(parsing: response.body)) ?? .string(response.text)
    return Answer(status: response.status, body: parsed, headers: response.headers)
}

func lease(_ name: String = "ip-203-0-113-7", namespace: String? = nil, holder: String = "node-1",
           duration: JSONValue = 15, extra: [String: JSONValue] = [:]) -> JSONValue {
    var metadata: [String: JSONValue] = ["name": .string(name)]
    if let namespace { metadata["namespace"] = .string(namespace) }
    var spec: [String: JSONValue] = ["holderIdentity": .string(holder), "leaseDurationSeconds": duration]
    for (key, value) in extra { spec[key] = value }
    return ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": .object(metadata), "spec": .object(spec)]
}

let leases = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"

/// A valid events.k8s.io/v1 Event about a Node.
func nodeEvent(note: String = "assigned 203.0.113.7", extra: [String: JSONValue] = [:]) -> JSONValue {
    var members: [String: JSONValue] = [
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": ["generateName": "node-1.", "namespace": "default"],
        "eventTime": "2026-12-04T10:00:00.123456Z", "reportingController": "kubeip.com/kubeip",
        "reportingInstance": "kubeip-node-1", "action": "AssignAddress", "reason": "AddressAssigned",
        "type": "Normal", "note": .string(note),
        "regarding": ["kind": "Node", "name": "node-1", "apiVersion": "v1"],
    ]
    for (key, value) in extra { members[key] = value }
    return .object(members)
}
