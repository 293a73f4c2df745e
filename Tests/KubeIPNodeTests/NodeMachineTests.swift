import Foundation
import KubeIPCore
import KubeIPKube
import Testing
@testable import KubeIPNode

@Suite struct NodeMachineTests {
    private func node(_ providerID: String?, labels: [String: String] = [:]) -> Node {
        Node(metadata: ObjectMeta(name: "n1", labels: labels), spec: .init(providerID: providerID))
    }

    @Test func awsProviderIDsGiveTheInstanceZoneAndRegion() throws {
        #expect(try NodeMachine.of(node("aws:///eu-west-1a/i-0abc123")) == .aws(instanceID: "i-0abc123", zone: "eu-west-1a", region: "eu-west-1"))
        // A local zone: the region label knows better than the zone's spelling.
        let local = node("aws:///us-west-2-lax-1a/i-0def", labels: [NodeMachine.regionLabel: "us-west-2"])
        #expect(try NodeMachine.of(local) == .aws(instanceID: "i-0def", zone: "us-west-2-lax-1a", region: "us-west-2"))
        // No node-pool label is needed (Karpenter nodes have none).
        #expect(try NodeMachine.of(node("aws:///ap-south-1b/i-1")).cloud == "aws")
    }

    @Test func gceProviderIDsGiveProjectZoneAndName() throws {
        #expect(try NodeMachine.of(node("gce://my-project/europe-west1-b/gke-pool-1-abcd"))
                == .gcp(project: "my-project", zone: "europe-west1-b", name: "gke-pool-1-abcd", region: "europe-west1"))
    }

    @Test(arguments: [
        (nil, "has no spec.providerID yet"),
        ("aws:///eu-west-1a/vol-1", "expected aws:///<zone>/<instance-id>"),
        ("gce://only/two", "expected gce://<project>/<zone>/<instance-name>"),
        ("azure:///subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v", "runs on 'azure'"),
    ] as [(String?, String)])
    func unusableProviderIDsAreIdentityErrorsNamingTheNode(providerID: String?, says: String) throws {
        let error = try #require(throws: KubeIPError.self) { try NodeMachine.of(node(providerID)) }
        #expect(error.code == .identity)
        #expect(error.message.contains(says))
        #expect(error.resource == "nodes/n1")
    }
}

@Suite struct NodeMarksTests {
    private let assignment = Assignment(family: .ipv4, address: PoolAddress(id: "eipalloc-1", ip: "203.0.113.7"),
                                        identity: InstanceIdentity(cloud: "aws", instanceID: "i-1", region: "r", zone: "z",
                                                                   interfaceID: "eni-1"),
                                        adopted: false)

    private func encoded(_ patch: JSONPatch?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(try #require(patch)), as: UTF8.self)
    }

    @Test func theAssignmentPatchTestsTheVersionRemovesOnlyTheStartupTaintAndAnnotates() throws {
        let node = Node(metadata: ObjectMeta(name: "n1", resourceVersion: "42", labels: ["team": "a"]),
                        spec: .init(taints: [Taint(key: "other", effect: .noSchedule),
                                             Taint(key: "kubeip.com/not-ready", effect: .noSchedule),
                                             Taint(key: "kubeip.com/not-ready", effect: .noExecute)]))
        let json = try encoded(NodeMarks.patch(node, status: .assigned, held: [.ipv4: "203.0.113.7"],
                                               taint: .remove("kubeip.com/not-ready")))
        #expect(json.hasPrefix(#"[{"op":"test","path":"\/metadata\/resourceVersion","value":"42"}"#))
        // Highest index first, so the indices stay right; the unrelated taint (index 0) stays.
        #expect(json.contains(#"{"op":"remove","path":"\/spec\/taints\/2"},{"op":"remove","path":"\/spec\/taints\/1"}"#))
        #expect(!json.contains(#"\/spec\/taints\/0"#))
        #expect(json.contains(#""path":"\/metadata\/labels\/kubeip.com~1status","value":"assigned""#))
        // No annotations yet: the map is added whole.
        #expect(json.contains(#"{"op":"add","path":"\/metadata\/annotations","value":{"kubeip.com\/public-ipv4":"203.0.113.7"}}"#))
    }

    @Test func nothingToChangeIsNoPatch() {
        let node = Node(metadata: ObjectMeta(name: "n1", resourceVersion: "7", labels: [NodeMarks.statusLabel: "assigned"],
                                             annotations: [NodeMarks.ipv4Annotation: "203.0.113.7"]))
        #expect(NodeMarks.patch(node, status: .assigned, held: [.ipv4: "203.0.113.7"], taint: .remove("kubeip.com/not-ready")) == nil)
    }

    @Test func clearingRemovesTheLabelAndTheAnnotationsOfFamiliesNoLongerHeld() throws {
        let node = Node(metadata: ObjectMeta(name: "n1", resourceVersion: "7", labels: [NodeMarks.statusLabel: "assigned"],
                                             annotations: [NodeMarks.ipv4Annotation: "203.0.113.7", "keep": "me"]))
        let json = try encoded(NodeMarks.patch(node, status: nil, held: [:], taint: .keep))
        #expect(json.contains(#"{"op":"remove","path":"\/metadata\/labels\/kubeip.com~1status"}"#))
        #expect(json.contains(#"{"op":"remove","path":"\/metadata\/annotations\/kubeip.com~1public-ipv4"}"#))
        #expect(!json.contains("keep"))
    }

    @Test func aLostAddressPutsTheStartupTaintBackOnce() throws {
        let taint = Taint(key: "kubeip.com/not-ready", effect: .noSchedule)
        let bare = Node(metadata: ObjectMeta(name: "n1", resourceVersion: "3"))
        #expect(try encoded(NodeMarks.patch(bare, status: .waiting, held: [:], taint: .add(taint)))
                    .contains(#"{"op":"add","path":"\/spec\/taints","value":[{"effect":"NoSchedule","key":"kubeip.com\/not-ready"}]}"#))
        let other = Node(metadata: ObjectMeta(name: "n1", resourceVersion: "3"),
                         spec: .init(taints: [Taint(key: "example.com/gpu", effect: .noSchedule)]))
        #expect(try encoded(NodeMarks.patch(other, status: nil, held: [:], taint: .add(taint)))
                    .contains(#"{"op":"add","path":"\/spec\/taints\/-","value":{"effect":"NoSchedule","key":"kubeip.com\/not-ready"}}"#))
        let tainted = Node(metadata: ObjectMeta(name: "n1", resourceVersion: "3"), spec: .init(taints: [taint]))
        #expect(NodeMarks.patch(tainted, status: nil, held: [:], taint: .add(taint)) == nil)
    }

    @Test func onlyIPv4AddressesAreWaitedFor() {
        var node = Node(metadata: ObjectMeta(name: "n1"), status: .init(addresses: [NodeAddress(type: "InternalIP", address: "203.0.113.7")]))
        var v6 = assignment
        v6.family = .ipv6
        v6.address = PoolAddress(id: "v6", ip: "2001:db8::", family: .ipv6)
        #expect(NodeMarks.unreported([assignment, v6], by: node).map(\.address.id) == ["eipalloc-1"])
        node.status?.addresses?.append(NodeAddress(type: "ExternalIP", address: "203.0.113.7"))
        #expect(NodeMarks.unreported([assignment, v6], by: node).isEmpty)
    }

    @Test func removalIsReadFromTheDeletionTimestampAndTheAutoscalersTaints() {
        #expect(NodeMarks.goingAway(Node(metadata: ObjectMeta(name: "n"))) == nil)
        #expect(NodeMarks.goingAway(Node(metadata: ObjectMeta(name: "n", deletionTimestamp: KubeTime(.now)))) != nil)
        for key in ["ToBeDeletedByClusterAutoscaler", "karpenter.sh/disrupted", "karpenter.sh/disruption"] {
            let node = Node(metadata: ObjectMeta(name: "n"), spec: .init(taints: [Taint(key: key, effect: .noSchedule)]))
            #expect(NodeMarks.goingAway(node)?.contains(key) == true)
        }
        // A cordon (unschedulable, maintenance) is not a removal.
        let cordoned = Node(metadata: ObjectMeta(name: "n"),
                            spec: .init(taints: [Taint(key: "node.kubernetes.io/unschedulable", effect: .noSchedule)]))
        #expect(NodeMarks.goingAway(cordoned) == nil)
    }
}


