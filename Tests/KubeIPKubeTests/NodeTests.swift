import Foundation
import Testing
@testable import KubeIPKube

@Suite struct NodeTests {
    private let json = """
        {"apiVersion":"v1","kind":"Node","metadata":{"name":"gke-pool-1-abcd","uid":"7d3b","resourceVersion":"99",
        "labels":{"cloud.google.com/gke-nodepool":"pool-1"},"deletionTimestamp":"2026-12-04T18:48:47Z","finalizers":["x"]},
        "spec":{"providerID":"gce://my-project/europe-west1-b/gke-pool-1-abcd","podCIDR":"10.4.0.0/24",
        "taints":[{"key":"kubeip.io/not-ready","value":"true","effect":"NoSchedule"},
                  {"key":"node.kubernetes.io/not-ready","effect":"NoExecute","timeAdded":"2026-12-04T18:48:47.999Z"},
                  {"key":"future","effect":"SomethingNew"}]},
        "status":{"addresses":[{"type":"InternalIP","address":"10.132.0.5"},{"type":"ExternalIP","address":"34.77.1.2"}],
        "conditions":[]}}
        """

    @Test func readsIdentityTaintsAndAddresses() throws {
        let node = try JSONDecoder().decode(Node.self, from: Data(json.utf8))
        #expect(node.metadata.deletionTimestamp?.description == "2026-12-04T18:48:47Z")
        #expect(node.spec?.providerID == "gce://my-project/europe-west1-b/gke-pool-1-abcd")
        #expect(node.spec?.taints?.map(\.effect) == [.noSchedule, .noExecute, TaintEffect(rawValue: "SomethingNew")])
        #expect(node.spec?.taints?[1].timeAdded?.description == "2026-12-04T18:48:48Z")
        #expect(node.status?.addresses?.last == NodeAddress(type: "ExternalIP", address: "34.77.1.2"))
    }

    @Test(.enabled(if: KubernetesSchema.available, "needs ../shared/testdata/kubernetes"))
    func encodesOnlyFieldsOfTheSchema() throws {
        let node = try JSONDecoder().decode(Node.self, from: Data(json.utf8))
        #expect(KubernetesSchema.problems(try KubernetesSchema.encoded(node), as: "io.k8s.api.core.v1.Node") == [])
    }
}
