import KubeIPSimulator
import KubeIPTestSupport
import Testing

@Suite("KubernetesAPIDouble: objects")
struct KubernetesAPIDoubleTests {
    @Test("create: 201 with uid, creationTimestamp and a resourceVersion from one global counter")
    func create() async {
        let double = makeDouble()
        await double.addNode(name: "node-1")
        let nodeVersion = Int(await double.node("node-1")!["metadata"]!["resourceVersion"]!.stringValue!)!
        let created = await send(double, "POST", leases, lease())
        #expect(created.status == 201)
        #expect(created["metadata", "uid"]?.stringValue?.count == 36)
        #expect(created["metadata", "creationTimestamp"] == "2027-01-15T08:00:00Z")
        #expect(created["metadata", "namespace"] == "kube-system")
        let version = Int(created["metadata", "resourceVersion"]!.stringValue!)!
        #expect(version > nodeVersion)
        #expect(created["metadata", "generation"] == nil)
        let got = await send(double, "GET", "\(leases)/ip-203-0-113-7")
        #expect(got.status == 200)
        #expect(got.body == created.body)
    }

    @Test("bodies: JSON or YAML; other media types are a 415; malformed JSON a 400")
    func bodies() async {
        let double = makeDouble()
        let yaml = "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: from-yaml}\nspec: {leaseDurationSeconds: 10}\n"
        let created = await send(double, "POST", leases, contentType: "application/yaml", rawBody: yaml)
        #expect(created.status == 201)
        #expect(created["spec", "leaseDurationSeconds"] == 10)
        let text = await send(double, "POST", leases, contentType: "text/plain", rawBody: "lease")
        #expect(text.status == 415)
        #expect(text.message == "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
        let broken = await send(double, "POST", leases, rawBody: "{\"kind\":")
        #expect(broken.status == 400)
        #expect(broken.message.hasPrefix("couldn't get version/kind; json parse error: "))
    }

    @Test("create of an existing name: 409 AlreadyExists, as the registry words it")
    func alreadyExists() async {
        let double = makeDouble()
        _ = await send(double, "POST", leases, lease())
        let again = await send(double, "POST", leases, lease())
        #expect(again.status == 409)
        #expect(again.body == [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": "leases.coordination.k8s.io \"ip-203-0-113-7\" already exists", "reason": "AlreadyExists",
            "details": ["name": "ip-203-0-113-7", "group": "coordination.k8s.io", "kind": "leases"], "code": 409,
        ])
    }

    @Test("404 NotFound bodies name the qualified resource")
    func notFound() async {
        let double = makeDouble()
        let node = await send(double, "GET", "/api/v1/nodes/x")
        #expect(node.status == 404)
        #expect(node.body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                              "message": "nodes \"x\" not found", "reason": "NotFound",
                              "details": ["name": "x", "kind": "nodes"], "code": 404])
        let missing = await send(double, "GET", "\(leases)/y")
        #expect(missing.message == "leases.coordination.k8s.io \"y\" not found")
        #expect(missing["details", "group"] == "coordination.k8s.io")
        let namespace = await send(double, "POST", "/apis/coordination.k8s.io/v1/namespaces/nope/leases", lease())
        #expect(namespace.status == 404)
        #expect(namespace.message == "namespaces \"nope\" not found")
        let path = await send(double, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/pods")
        #expect(path.status == 404)
        #expect(path.message == "the server could not find the requested resource")
    }

    @Test("update: a stale resourceVersion is a 409 Conflict; none is unconditional; a no-op keeps the version")
    func update() async {
        let double = makeDouble()
        let created = await send(double, "POST", leases, lease())
        let version = created["metadata", "resourceVersion"]!
        var renewed = created.body
        renewed = renewed.replacing(["spec", "holderIdentity"], with: "node-2")
        let first = await send(double, "PUT", "\(leases)/ip-203-0-113-7", renewed)
        #expect(first.status == 200)
        #expect(first["spec", "holderIdentity"] == "node-2")
        #expect(first["metadata", "resourceVersion"] != version)
        #expect(first["metadata", "uid"] == created["metadata", "uid"])

        let stale = await send(double, "PUT", "\(leases)/ip-203-0-113-7", renewed)
        #expect(stale.status == 409)
        #expect(stale.reason == "Conflict")
        #expect(stale.message == "Operation cannot be fulfilled on leases.coordination.k8s.io \"ip-203-0-113-7\": "
                + "the object has been modified; please apply your changes to the latest version and try again")

        let unconditional = await send(double, "PUT", "\(leases)/ip-203-0-113-7", lease(holder: "node-3"))
        #expect(unconditional.status == 200)
        #expect(unconditional["spec", "holderIdentity"] == "node-3")
        let same = await send(double, "PUT", "\(leases)/ip-203-0-113-7", unconditional.body)
        #expect(same["metadata", "resourceVersion"] == unconditional["metadata", "resourceVersion"])
    }

    @Test("update: a Lease may be created by PUT, a Node may not; names must match the URL")
    func updateEdges() async {
        let double = makeDouble()
        let created = await send(double, "PUT", "\(leases)/fresh", lease("fresh"))
        #expect(created.status == 201)
        let versioned = lease("again").replacing(["metadata", "resourceVersion"], with: "5")
        let posted = await send(double, "POST", leases, versioned)
        #expect(posted.status == 500)
        #expect(posted.body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "code": 500,
                                "message": "resourceVersion should not be set on objects to be created"])
        #expect(await send(double, "PUT", "\(leases)/again", versioned).status == 201)
        let node = await send(double, "PUT", "/api/v1/nodes/ghost", ["metadata": ["name": "ghost"]])
        #expect(node.status == 404)
        #expect(node.message == "nodes \"ghost\" not found")
        let mismatch = await send(double, "PUT", "\(leases)/fresh", lease("other"))
        #expect(mismatch.status == 400)
        #expect(mismatch.message == "the name of the object (other) does not match the name on the URL (fresh)")
        let otherNamespace = await send(double, "POST", leases, lease("x", namespace: "default"))
        #expect(otherNamespace.status == 400)
        #expect(otherNamespace.message == "the namespace of the provided object does not match the namespace sent on the request")
        var changedUID = created.body.replacing(["metadata", "uid"], with: "0000")
        changedUID = changedUID.replacing(["metadata", "resourceVersion"], with: nil)
        let uid = await send(double, "PUT", "\(leases)/fresh", changedUID)
        #expect(uid.status == 422)
        #expect(uid.message == "Lease.coordination.k8s.io \"fresh\" is invalid: metadata.uid: Invalid value: \"0000\": field is immutable")
    }

    @Test("delete: preconditions (uid, then resourceVersion) are a 409; success is a Status with the uid")
    func delete() async {
        let double = makeDouble()
        let created = await send(double, "POST", leases, lease())
        let uid = created["metadata", "uid"]!.stringValue!
        let version = created["metadata", "resourceVersion"]!.stringValue!
        let staleVersion = await send(double, "DELETE", "\(leases)/ip-203-0-113-7",
                                      ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": ["resourceVersion": "1"]])
        #expect(staleVersion.status == 409)
        #expect(staleVersion.message == "Operation cannot be fulfilled on leases.coordination.k8s.io \"ip-203-0-113-7\": "
                + "Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: \(version)")
        let staleUID = await send(double, "DELETE", "\(leases)/ip-203-0-113-7", ["preconditions": ["uid": "nope"]])
        #expect(staleUID.message.hasSuffix("Precondition failed: UID in precondition: nope, UID in object meta: \(uid)"))
        let deleted = await send(double, "DELETE", "\(leases)/ip-203-0-113-7",
                                 ["preconditions": ["uid": .string(uid), "resourceVersion": .string(version)]])
        #expect(deleted.status == 200)
        #expect(deleted.body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success",
                                 "details": ["name": "ip-203-0-113-7", "group": "coordination.k8s.io", "kind": "leases",
                                             "uid": .string(uid)]])
        #expect(await send(double, "GET", "\(leases)/ip-203-0-113-7").status == 404)
        #expect(await send(double, "DELETE", "\(leases)/ip-203-0-113-7").status == 404)
    }

    @Test("a Node with a finalizer is marked, not removed; removing the last finalizer removes it")
    func finalizers() async {
        let double = makeDouble()
        await double.addNode(name: "node-1")
        await double.markNodeForDeletion("node-1")
        let marked = await send(double, "GET", "/api/v1/nodes/node-1")
        #expect(marked["metadata", "deletionTimestamp"] == "2027-01-15T08:00:00Z")
        #expect(marked["metadata", "finalizers"] == ["kubeip.test/hold"])
        let patched = await send(double, "PATCH", "/api/v1/nodes/node-1", ["metadata": ["finalizers": nil]],
                                 contentType: "application/merge-patch+json")
        #expect(patched.status == 200)
        #expect(await send(double, "GET", "/api/v1/nodes/node-1").status == 404)
    }

    @Test("list: label and field selectors, items without kind, limit and continue")
    func list() async {
        let double = makeDouble()
        await double.addNode(name: "node-1", labels: ["pool": "a"])
        await double.addNode(name: "node-2", labels: ["pool": "b"])
        await double.addNode(name: "node-3")
        let all = await send(double, "GET", "/api/v1/nodes")
        #expect(all["kind"] == "NodeList")
        #expect(all["items"]?.arrayValue?.count == 3)
        #expect(all["items"]?[0]?["kind"] == nil)
        #expect(all["metadata", "resourceVersion"]?.stringValue == (await double.currentResourceVersion))
        func names(_ query: String) async -> [String] {
            let answer = await send(double, "GET", "/api/v1/nodes?\(query)")
            return (answer["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }
        }
        #expect(await names("labelSelector=pool%3Da") == ["node-1"])
        #expect(await names("labelSelector=pool") == ["node-1", "node-2"])
        #expect(await names("labelSelector=!pool") == ["node-3"])
        #expect(await names("labelSelector=pool+in+(a,b),pool!%3Db") == ["node-1"])
        #expect(await names("labelSelector=pool+notin+(a)") == ["node-2", "node-3"])
        #expect(await names("fieldSelector=metadata.name%3Dnode-2") == ["node-2"])
        let page = await send(double, "GET", "/api/v1/nodes?limit=2")
        #expect(page["items"]?.arrayValue?.count == 2)
        #expect(page["metadata", "remainingItemCount"] == 1)
        let token = page["metadata", "continue"]!.stringValue!
        #expect(await names("limit=2&continue=\(token)") == ["node-3"])
        let badField = await send(double, "GET", "/api/v1/nodes?fieldSelector=spec.providerID%3Dx")
        #expect(badField.status == 400)
        #expect(badField.message == "field label not supported: spec.providerID")
        let watch = await send(double, "GET", "/api/v1/nodes?watch=true")
        #expect(watch.status == 405)
    }

    @Test("events: generateName; one store behind core/v1 and events.k8s.io/v1")
    func events() async {
        let double = makeDouble()
        let created = await send(double, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", nodeEvent())
        #expect(created.status == 201)
        let name = created["metadata", "name"]!.stringValue!
        #expect(name.hasPrefix("node-1.") && name.count == "node-1.".count + 5)
        #expect(created["note"] == "assigned 203.0.113.7")
        #expect(created["regarding", "name"] == "node-1")
        let core = await send(double, "GET", "/api/v1/namespaces/default/events/\(name)")
        #expect(core["message"] == "assigned 203.0.113.7")
        #expect(core["involvedObject", "name"] == "node-1")
        #expect(core["reportingComponent"] == "kubeip.com/kubeip")
        #expect(await double.events(namespace: "default").map { $0["note"] } == ["assigned 203.0.113.7"])
    }

    @Test("discovery: /version, /api, /apis, resource lists with nodes/status, OpenAPI v3 PATCH operations")
    func discovery() async {
        let double = makeDouble()
        #expect(await send(double, "GET", "/version")["major"] == "1")
        #expect(await send(double, "GET", "/api")["versions"] == ["v1"])
        let groups = await send(double, "GET", "/apis")["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(groups == ["coordination.k8s.io", "events.k8s.io"])
        let core = await send(double, "GET", "/api/v1")["resources"]?.arrayValue ?? []
        #expect(core.contains { $0["name"] == "nodes" && $0["shortNames"] == ["no"] && $0["namespaced"] == false })
        #expect(core.contains { $0["name"] == "nodes/status" && $0["verbs"] == ["get", "patch", "update"] })
        let coordination = await send(double, "GET", "/apis/coordination.k8s.io/v1")["resources"]?.arrayValue ?? []
        #expect(coordination.first?["kind"] == "Lease")
        let openapi = await send(double, "GET", "/openapi/v3/apis/coordination.k8s.io/v1")
        #expect(openapi["paths", "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}", "patch",
                        "x-kubernetes-group-version-kind", "kind"] == "Lease")
    }

    @Test("server-side printing: a Table with the apiserver's columns when the client asks for one")
    func table() async {
        let clock = ManualClock()
        let double = makeDouble(clock: clock)
        await double.addNode(name: "node-1", labels: ["node-role.kubernetes.io/worker": ""])
        _ = await send(double, "POST", leases, lease())
        clock.advance(by: .seconds(150))
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        let nodes = await send(double, "GET", "/api/v1/nodes", accept: accept)
        #expect(nodes["kind"] == "Table")
        #expect(nodes["columnDefinitions"]?.arrayValue?.prefix(5).compactMap { $0["name"]?.stringValue }
                == ["Name", "Status", "Roles", "Age", "Version"])
        #expect(nodes["rows"]?[0]?["cells"]?.arrayValue?.prefix(5).compactMap(\.stringValue)
                == ["node-1", "Ready", "worker", "2m30s", "v1.32.0"])
        #expect(nodes["rows"]?[0]?["object"]?["kind"] == "PartialObjectMetadata")
        let one = await send(double, "GET", "\(leases)/ip-203-0-113-7", accept: accept)
        #expect(one["rows"]?[0]?["cells"] == ["ip-203-0-113-7", "node-1", "2m30s"])
    }

    @Test("injected faults: 429 with Retry-After, 500, 409, matched by verb and resource, then normal service")
    func faults() async {
        let double = makeDouble()
        await double.injectFailure(status: 429, count: 2, retryAfter: 3, verb: "create", resource: "leases")
        await double.injectFailure(status: 500, verb: "get", resource: "nodes")
        await double.addNode(name: "node-1")
        #expect(await send(double, "GET", "/api/v1/nodes").status == 200)
        let throttled = await send(double, "POST", leases, lease())
        #expect(throttled.status == 429)
        #expect(throttled.header("Retry-After") == "3")
        #expect(throttled.reason == "TooManyRequests")
        #expect(await send(double, "POST", leases, lease()).status == 429)
        #expect(await send(double, "POST", leases, lease()).status == 201)
        let broken = await send(double, "GET", "/api/v1/nodes/node-1")
        #expect(broken.status == 500)
        #expect(broken.reason == "InternalError")
        #expect(await send(double, "GET", "/api/v1/nodes/node-1").status == 200)
        await double.injectFailure(status: 409, verb: "update", resource: "leases")
        let conflict = await send(double, "PUT", "\(leases)/ip-203-0-113-7", lease())
        #expect(conflict.status == 409)
        #expect(conflict.reason == "Conflict")
    }
}

extension JSONValue {
    /// A copy with the value at `path` replaced (nil removes it).
    func replacing(_ path: [String], with value: JSONValue?) -> JSONValue {
        guard let first = path.first else { return value ?? .null }
        var members = objectValue ?? [:]
        if path.count == 1 {
            members[first] = value
        } else {
            members[first] = (members[first] ?? [:]).replacing(Array(path.dropFirst()), with: value)
        }
        return .object(members)
    }
}
