import KubeIPCore
import KubeIPHTTPServer
import KubeIPSimulator
import KubeIPTestSupport
import Testing

/// The shape of RBAC a kube-mode deployment ships: a ClusterRole for nodes, a Role for
/// leases and events in kube-system, bound to the service account.
let shippedRBAC = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: kubeip, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeip
rules:
  - apiGroups: [""]
    resources: ["nodes"]
    verbs: ["get", "patch"]
  - apiGroups: [""]
    resources: ["nodes/status"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubeip}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubeip}
subjects:
  - {kind: ServiceAccount, name: kubeip, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kubeip-leases, namespace: kube-system}
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "list", "create", "update", "delete"]
  - apiGroups: ["events.k8s.io"]
    resources: ["events"]
    verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kubeip-leases, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kubeip-leases}
subjects:
  - {kind: ServiceAccount, name: kubeip, namespace: kube-system}
"""

@Suite("KubernetesAPIDouble: authentication, RBAC, recording")
struct KubernetesAuthorizationTests {
    func rbacDouble() throws -> KubernetesAPIDouble {
        var policy = RBACPolicy()
        try policy.load(shippedRBAC)
        return makeDouble(rbac: policy)
    }

    @Test("no token or an unknown one: 401 Unauthorized, the filter's body")
    func unauthorized() async {
        let double = makeDouble()
        for token in [nil, "wrong"] as [String?] {
            let answer = await send(double, "GET", "/api/v1/nodes", token: token)
            #expect(answer.status == 401)
            #expect(answer.body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401])
        }
        #expect(await double.requests.map(\.status) == [401, 401])
    }

    @Test("403 Forbidden worded as the authorization filter words it (namespaced, cluster scope, subresource)")
    func forbidden() async throws {
        let double = try rbacDouble()
        await double.addNode(name: "node-1")
        let create = await send(double, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease(), token: kubeipToken)
        #expect(create.status == 403)
        #expect(create.body == [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "reason": "Forbidden", "code": 403,
            "message": .string("leases.coordination.k8s.io is forbidden: User \"\(kubeipUser)\" cannot create resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"default\""),
            "details": ["group": "coordination.k8s.io", "kind": "leases"],
        ])
        let patch = await send(double, "PATCH", "\(leases)/x", ["spec": [:]], contentType: "application/merge-patch+json",
                               token: kubeipToken)
        #expect(patch.message == "leases.coordination.k8s.io \"x\" is forbidden: User \"\(kubeipUser)\" cannot patch resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"kube-system\"")
        let status = await send(double, "PATCH", "/api/v1/nodes/node-1/status", ["status": [:]],
                                contentType: "application/merge-patch+json", token: kubeipToken)
        #expect(status.message == "nodes \"node-1\" is forbidden: User \"\(kubeipUser)\" cannot patch resource \"nodes/status\" in API group \"\" at the cluster scope")
        let list = await send(double, "GET", "/api/v1/nodes", token: kubeipToken)
        #expect(list.message == "nodes is forbidden: User \"\(kubeipUser)\" cannot list resource \"nodes\" in API group \"\" at the cluster scope")
    }

    @Test("what the shipped rules grant works; system:masters may do anything; discovery is open")
    func allowed() async throws {
        let double = try rbacDouble()
        await double.addNode(name: "node-1")
        #expect(await send(double, "GET", "/api/v1/nodes/node-1", token: kubeipToken).status == 200)
        #expect(await send(double, "PATCH", "/api/v1/nodes/node-1", ["metadata": ["labels": ["a": "b"]]],
                           contentType: "application/merge-patch+json", token: kubeipToken).status == 200)
        #expect(await send(double, "POST", leases, lease(), token: kubeipToken).status == 201)
        #expect(await send(double, "POST", "/apis/events.k8s.io/v1/namespaces/kube-system/events",
                           nodeEvent().replacing(["metadata", "namespace"], with: nil), token: kubeipToken).status == 201)
        #expect(await send(double, "GET", "/apis", token: kubeipToken).status == 200)
        #expect(await send(double, "DELETE", "/api/v1/nodes/node-1", token: adminToken).status == 200)
    }

    @Test("rule matching: resourceNames, wildcards, */subresource, namespaced grants")
    func rules() {
        let user = KubernetesUser(name: "u")
        func attributes(_ verb: String, _ resource: String, sub: String = "", ns: String = "", name: String = "") -> KubernetesRequestAttributes {
            KubernetesRequestAttributes(user: "u", verb: verb, apiGroup: resource == "leases" ? "coordination.k8s.io" : "",
                                        resource: resource, subresource: sub, namespace: ns, name: name)
        }
        var policy = RBACPolicy()
        policy.grant([RBACRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["update"],
                               resourceNames: ["ip-1"])], to: "u", namespace: "kube-system")
        policy.grant([RBACRule(apiGroups: [""], resources: ["*/status"], verbs: ["*"])], to: "u")
        #expect(policy.allows(user, attributes("update", "leases", ns: "kube-system", name: "ip-1")))
        #expect(!policy.allows(user, attributes("update", "leases", ns: "kube-system", name: "ip-2")))
        #expect(!policy.allows(user, attributes("update", "leases", ns: "default", name: "ip-1")))
        #expect(!policy.allows(user, attributes("create", "leases", ns: "kube-system")))
        #expect(policy.allows(user, attributes("patch", "nodes", sub: "status", name: "n")))
        #expect(!policy.allows(user, attributes("patch", "nodes", name: "n")))
    }

    @Test("every request is recorded with its RBAC attributes and status; permissionsUsed summarises them")
    func recording() async throws {
        let double = try rbacDouble()
        await double.addNode(name: "node-1")
        _ = await send(double, "GET", "/api/v1/nodes/node-1", token: kubeipToken)
        _ = await send(double, "PATCH", "/api/v1/nodes/node-1/status", ["status": [:]], contentType: "application/merge-patch+json",
                       token: kubeipToken)
        _ = await send(double, "PUT", "\(leases)/ip-1", lease("ip-1"), token: kubeipToken)
        _ = await send(double, "GET", "/api", token: kubeipToken)
        let records = await double.requests
        #expect(records.map(\.description) == [
            "\(kubeipUser) get nodes node-1 -> 200",
            "\(kubeipUser) patch nodes/status node-1 -> 403",
            "\(kubeipUser) update coordination.k8s.io/leases kube-system/ip-1 -> 201",
            "\(kubeipUser) get /api -> 200",
        ])
        #expect(await double.permissionsUsed(by: kubeipUser) == [
            "get nodes", "patch nodes/status", "update coordination.k8s.io/leases in kube-system",
        ])
    }

    @Test("RBAC manifests load from YAML or JSON, documents or a List; bad rules are refused")
    func loading() throws {
        var policy = RBACPolicy()
        try policy.load(#"{"kind": "List", "items": [{"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]}, {"kind": "ClusterRoleBinding", "metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "r"}, "subjects": [{"kind": "Group", "name": "readers"}]}]}"#)
        let reader = KubernetesUser(name: "x", groups: ["readers"])
        #expect(policy.allows(reader, KubernetesRequestAttributes(user: "x", verb: "get", resource: "nodes", name: "n")))
        #expect(!policy.allows(KubernetesUser(name: "y"), KubernetesRequestAttributes(user: "y", verb: "get", resource: "nodes")))
        #expect(throws: KubeIPError.self) { try policy.load("kind: Role\nmetadata: {name: r}\nrules: [{verbs: get}]") }
    }
}

@Suite("KubernetesAPIDouble: test hooks")
struct KubernetesHookTests {
    @Test("the cloud-controller-manager's address update after a delay on the injected clock")
    func delayedAddresses() async {
        let clock = ManualClock()
        let double = makeDouble(clock: clock)
        await double.addNode(name: "node-1")
        await double.setExternalIP("node-1", "203.0.113.7", after: .seconds(5))
        #expect(await clock.waitForSleepers(1))
        #expect(await double.node("node-1")?[path: ["status", "addresses"]]?.arrayValue?.count == 2)
        clock.advance(by: .seconds(5))
        var types: [String] = []
        for _ in 0..<1000 {
            types = (await double.node("node-1")?[path: ["status", "addresses"]]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue }
            if types.contains("ExternalIP") { break }
            await Task.yield()
        }
        #expect(types == ["InternalIP", "Hostname", "ExternalIP"])
    }

    @Test("taints added and removed; the HTTP admin routes drive the same hooks")
    func adminRoutes() async {
        let double = makeDouble()
        func admin(_ method: String, _ path: String, _ body: JSONValue? = nil) async -> Answer {
            await send(double, method, "/_double/\(path)", body, token: nil)
        }
        #expect(await admin("POST", "nodes", ["name": "node-1", "providerID": "gce://p/z/vm-1",
                                              "taints": [["key": "kubeip.com/not-ready", "effect": "NoSchedule"]]]).status == 201)
        #expect(await admin("POST", "nodes", ["name": "node-1"]).status == 400)
        #expect(await admin("POST", "nodes/node-1/taints", ["key": "extra", "effect": "NoExecute"]).status == 200)
        let untainted = await admin("DELETE", "nodes/node-1/taints/kubeip.com~not-ready".replacingTilde)
        #expect(untainted["spec", "taints"] == [["key": "extra", "effect": "NoExecute"]])
        let addressed = await admin("PUT", "nodes/node-1/external-ip", ["ip": "198.51.100.1"])
        #expect(addressed["status", "addresses"]?.arrayValue?.last == ["type": "ExternalIP", "address": "198.51.100.1"])
        let deleting = await admin("POST", "nodes/node-1/deletion", [:])
        #expect(deleting["metadata", "deletionTimestamp"] != nil)
        #expect(await admin("POST", "faults", ["status": 500, "verb": "get"]).status == 201)
        #expect(await send(double, "GET", "/api/v1/nodes/node-1").status == 500)
        let records = await admin("GET", "requests")
        #expect(records["requests"]?.arrayValue?.count == 1)
        #expect(await admin("GET", "permissions?user=admin")["permissions"] == ["get nodes"])
        #expect(await admin("GET", "nope").status == 404)
        #expect(await admin("DELETE", "nodes/node-1").status == 200)
        #expect(await double.node("node-1") == nil)
    }
}

private extension String {
    /// Test paths write `/` inside a taint key as `~` (the route takes the key as one segment).
    var replacingTilde: String { replacing("kubeip.com~not-ready", with: "kubeip.com%2Fnot-ready") }
}
