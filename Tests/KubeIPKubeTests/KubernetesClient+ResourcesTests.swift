import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
import Testing
@testable import KubeIPKube

/// Each call's method, path, headers and body exactly as the Kubernetes API expects them.
@Suite struct KubernetesClientResourcesTests {
    private let token = "sekret-token-abc123"

    private func client(_ api: FakeKubeAPI) -> KubernetesClient {
        KubernetesClient(connection: testConnection(token: token), http: api, clock: ManualClock(autoAdvance: true),
                         random: FixedRandom(0), userAgent: "kubeip/0.1.0")
    }

    private static let nodeJSON = """
        {"apiVersion":"v1","kind":"Node","metadata":{"name":"ip-10-0-0-1","uid":"u-1","resourceVersion":"4711",
         "labels":{"topology.kubernetes.io/zone":"eu-west-1a"},"annotations":{"a":"b"},"creationTimestamp":"2026-01-01T00:00:00Z"},
         "spec":{"providerID":"aws:///eu-west-1a/i-0abc","taints":[{"key":"kubeip.io/waiting","effect":"NoSchedule"},
         {"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":"2026-12-04T18:48:47Z"}]},
         "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],"capacity":{"cpu":"2"}}}
        """

    @Test func getNodeSendsAcceptUserAgentAndTheBearerToken() async throws {
        let api = FakeKubeAPI([Exchange(method: "GET", path: "/api/v1/nodes/ip-10-0-0-1", body: Self.nodeJSON)])
        let node = try await client(api).getNode("ip-10-0-0-1")
        #expect(node.metadata.name == "ip-10-0-0-1")
        #expect(node.metadata.resourceVersion == "4711")
        #expect(node.spec?.providerID == "aws:///eu-west-1a/i-0abc")
        #expect(node.spec?.taints?.map(\.effect) == [.noSchedule, .noExecute])
        #expect(node.status?.addresses == [NodeAddress(type: "InternalIP", address: "10.0.0.1")])
        let request = try #require(api.requests.first)
        #expect(request.header("Accept") == "application/json")
        #expect(request.header("User-Agent") == "kubeip/0.1.0")
        #expect(request.header("Authorization") == "Bearer \(token)")
        #expect(request.header("Content-Type") == nil)
        #expect(request.body.isEmpty)
    }

    @Test func namesArePathEscaped() async throws {
        let api = FakeKubeAPI([Exchange(method: "GET", path: "/api/v1/nodes/a%2Fb%20c", body: Self.nodeJSON)])
        _ = try await client(api).getNode("a/b c")
        for bad in ["", ".", ".."] {
            let error = await #expect(throws: KubeIPError.self) { _ = try await client(FakeKubeAPI([])).getNode(bad) }
            #expect(error?.code == .invalidSetting)
        }
    }

    @Test func patchNodeWithAJSONPatch() async throws {
        let api = FakeKubeAPI([Exchange(method: "PATCH", path: "/api/v1/nodes/ip-10-0-0-1", body: Self.nodeJSON) { request in
            #expect(request.header("Content-Type") == "application/json-patch+json")
            #expect(request.bodyText == #"[{"op":"test","path":"/metadata/resourceVersion","value":"4711"},{"op":"remove","path":"/spec/taints/0"},{"op":"add","path":"/metadata/annotations/kubeip.io~1address","value":"203.0.113.7"}]"#)
        }])
        var patch = JSONPatch()
        patch.test(["metadata", "resourceVersion"], "4711")
        patch.remove(JSONPointer("spec", "taints").appending(index: 0))
        patch.add(["metadata", "annotations", "kubeip.io/address"], "203.0.113.7")
        _ = try await client(api).patchNode("ip-10-0-0-1", patch)
        #expect(api.remaining == 0)
    }

    private struct AnnotationPatch: Encodable, Sendable {
        struct Metadata: Encodable, Sendable { var annotations: [String: String?] }
        var metadata: Metadata
    }

    @Test(arguments: [(PatchType.merge, "application/merge-patch+json"),
                      (PatchType.strategicMerge, "application/strategic-merge-patch+json")])
    func patchNodeWithMergePatches(type: PatchType, contentType: String) async throws {
        let api = FakeKubeAPI([Exchange(method: "PATCH", path: "/api/v1/nodes/n1", body: Self.nodeJSON) { request in
            #expect(request.header("Content-Type") == contentType)
            #expect(request.bodyText == #"{"metadata":{"annotations":{"kubeip.io/address":"203.0.113.7"}}}"#)
        }])
        let body = AnnotationPatch(metadata: .init(annotations: ["kubeip.io/address": "203.0.113.7"]))
        _ = try await client(api).patchNode("n1", body: body, type: type)
        #expect(api.remaining == 0)
    }

    private static let leasePath = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kubeip-eipalloc-123"
    private static let leaseJSON = """
        {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"kubeip-eipalloc-123",
         "namespace":"kube-system","resourceVersion":"42","labels":{"app":"kubeip"}},
         "spec":{"holderIdentity":"ip-10-0-0-1","leaseDurationSeconds":15,"acquireTime":"2026-12-04T18:48:47.123456Z",
         "renewTime":"2026-12-04T18:49:02.5Z","leaseTransitions":3}}
        """

    @Test func getLease() async throws {
        let api = FakeKubeAPI([Exchange(method: "GET", path: Self.leasePath, body: Self.leaseJSON)])
        let lease = try await client(api).getLease(namespace: "kube-system", name: "kubeip-eipalloc-123")
        #expect(lease.spec?.holderIdentity == "ip-10-0-0-1")
        #expect(lease.spec?.renewTime?.description == "2026-12-04T18:49:02.500000Z")
        #expect(lease.metadata.resourceVersion == "42")
    }

    @Test func createLeasePostsTheLeaseToItsCollection() async throws {
        let acquired = try #require(MicroTime("2026-12-04T18:48:47.123456Z"))
        let api = FakeKubeAPI([Exchange(method: "POST", path: "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
                                        status: 201, body: Self.leaseJSON) { request in
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.bodyText == #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"labels":{"app":"kubeip"},"name":"kubeip-eipalloc-123"},"spec":{"acquireTime":"2026-12-04T18:48:47.123456Z","holderIdentity":"ip-10-0-0-1","leaseDurationSeconds":15,"leaseTransitions":0,"renewTime":"2026-12-04T18:48:47.123456Z"}}"#)
        }])
        let lease = Lease(metadata: ObjectMeta(name: "kubeip-eipalloc-123", labels: ["app": "kubeip"]),
                          spec: .init(holderIdentity: "ip-10-0-0-1", leaseDurationSeconds: 15, acquireTime: acquired,
                                      renewTime: acquired, leaseTransitions: 0))
        let created = try await client(api).createLease(lease, namespace: "kube-system")
        #expect(created.metadata.resourceVersion == "42")
    }

    @Test func createLeaseAnswersAlreadyExists() async throws {
        let status = #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"leases.coordination.k8s.io \"x\" already exists","reason":"AlreadyExists","details":{"name":"x","group":"coordination.k8s.io","kind":"leases"},"code":409}"#
        let api = FakeKubeAPI([Exchange(method: "POST", path: "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
                                        status: 409, body: status)])
        let lease = Lease(metadata: ObjectMeta(name: "x", namespace: "kube-system"))
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(api).createLease(lease) }
        #expect(error?.reason == .alreadyExists)
        #expect(error?.call == "create leases/kube-system/x")
        #expect(error?.kubeIPError.code == .conflict)
        #expect(api.requests.count == 1)   // a 409 is never retried
    }

    @Test func updateLeasePutsTheWholeLeaseWithItsResourceVersion() async throws {
        let api = FakeKubeAPI([Exchange(method: "PUT", path: Self.leasePath, body: Self.leaseJSON) { request in
            #expect(request.header("Content-Type") == "application/json")
            let sent = try? JSONDecoder().decode(Lease.self, from: Data(request.body))
            #expect(sent?.metadata.resourceVersion == "42")
            #expect(sent?.metadata.labels == ["app": "kubeip"])
            #expect(sent?.spec?.leaseTransitions == 3)
        }])
        var lease = try JSONDecoder().decode(Lease.self, from: Data(Self.leaseJSON.utf8))
        lease.spec?.renewTime = MicroTime(Date(timeIntervalSince1970: 1_796_410_150))
        _ = try await client(api).updateLease(lease)
        #expect(api.remaining == 0)
        var unread = lease
        unread.metadata.resourceVersion = nil
        await #expect(throws: KubeIPError.self) { _ = try await client(FakeKubeAPI([])).updateLease(unread) }
    }

    @Test func updateLeaseWithAStaleVersionIsAConflict() async throws {
        let api = FakeKubeAPI([Exchange(method: "PUT", path: Self.leasePath, status: 409,
                                        body: #"{"kind":"Status","reason":"Conflict","code":409,"message":"the object has been modified; please apply your changes to the latest version and try again"}"#)])
        let lease = try JSONDecoder().decode(Lease.self, from: Data(Self.leaseJSON.utf8))
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(api).updateLease(lease) }
        #expect(error?.reason == .conflict)
        #expect(error?.call == "update leases/kube-system/kubeip-eipalloc-123")
    }

    @Test func deleteLeaseSendsThePrecondition() async throws {
        let api = FakeKubeAPI([
            Exchange(method: "DELETE", path: Self.leasePath, body: #"{"kind":"Status","status":"Success"}"#) { request in
                #expect(request.header("Content-Type") == "application/json")
                #expect(request.bodyText == #"{"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"resourceVersion":"42"}}"#)
            },
            Exchange(method: "DELETE", path: Self.leasePath) { request in
                #expect(request.bodyText == #"{"apiVersion":"v1","kind":"DeleteOptions"}"#)
            },
        ])
        try await client(api).deleteLease(namespace: "kube-system", name: "kubeip-eipalloc-123", preconditionResourceVersion: "42")
        try await client(api).deleteLease(namespace: "kube-system", name: "kubeip-eipalloc-123", preconditionResourceVersion: nil)
        #expect(api.remaining == 0)
    }

    @Test func createEvent() async throws {
        let time = try #require(MicroTime("2026-12-04T18:48:47.123456Z"))
        let api = FakeKubeAPI([Exchange(method: "POST", path: "/apis/events.k8s.io/v1/namespaces/default/events", status: 201,
                                        body: #"{"metadata":{"name":"kubeip-x7k2p","namespace":"default"},"eventTime":"2026-12-04T18:48:47.123456Z"}"#) { request in
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.bodyText == #"{"action":"Assign","apiVersion":"events.k8s.io/v1","eventTime":"2026-12-04T18:48:47.123456Z","kind":"Event","metadata":{"generateName":"kubeip-","namespace":"default"},"note":"assigned 203.0.113.7","reason":"AddressAssigned","regarding":{"apiVersion":"v1","kind":"Node","name":"ip-10-0-0-1","uid":"u-1"},"reportingController":"kubeip.io/kubeip","reportingInstance":"ip-10-0-0-1","type":"Normal"}"#)
        }])
        let node = Node(metadata: ObjectMeta(name: "ip-10-0-0-1", uid: "u-1"))
        let event = Event(metadata: ObjectMeta(generateName: "kubeip-", namespace: "default"), eventTime: time,
                          reportingController: "kubeip.io/kubeip", reportingInstance: "ip-10-0-0-1", action: "Assign",
                          reason: "AddressAssigned", regarding: ObjectReference(node: node), note: "assigned 203.0.113.7")
        let created = try await client(api).createEvent(namespace: "default", event)
        #expect(created.metadata.name == "kubeip-x7k2p")
    }
}
