import Foundation
import Testing
@testable import KubeIPKube

@Suite struct LeaseTests {
    private let json = """
        {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"kubeip-eipalloc-123","namespace":"kube-system",
        "resourceVersion":"42","labels":{"app":"kubeip"},"annotations":{"kubeip.io/address":"203.0.113.7"}},
        "spec":{"holderIdentity":"ip-10-0-0-1","leaseDurationSeconds":15,"acquireTime":"2026-12-04T19:48:47.1234+01:00",
        "renewTime":"2026-12-04T18:49:02Z","leaseTransitions":3,"strategy":"OldestEmulationVersion","preferredHolder":"x"}}
        """

    @Test func roundTripsWhatItReadsWithMicroTimesInUTC() throws {
        let lease = try JSONDecoder().decode(Lease.self, from: Data(json.utf8))
        #expect(lease.spec?.acquireTime?.description == "2026-12-04T18:48:47.123400Z")
        let encoded = String(decoding: try KubernetesSchema.encoded(lease), as: UTF8.self)
        #expect(encoded == #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"annotations":{"kubeip.io/address":"203.0.113.7"},"labels":{"app":"kubeip"},"name":"kubeip-eipalloc-123","namespace":"kube-system","resourceVersion":"42"},"spec":{"acquireTime":"2026-12-04T18:48:47.123400Z","holderIdentity":"ip-10-0-0-1","leaseDurationSeconds":15,"leaseTransitions":3,"preferredHolder":"x","renewTime":"2026-12-04T18:49:02.000000Z","strategy":"OldestEmulationVersion"}}"#)
        #expect(try JSONDecoder().decode(Lease.self, from: Data(encoded.utf8)) == lease)
    }

    @Test(.enabled(if: KubernetesSchema.available, "needs ../shared/testdata/kubernetes"))
    func encodesOnlyFieldsOfTheSchema() throws {
        let lease = try JSONDecoder().decode(Lease.self, from: Data(json.utf8))
        #expect(KubernetesSchema.problems(try KubernetesSchema.encoded(lease), as: "io.k8s.api.coordination.v1.Lease") == [])
        let fresh = Lease(metadata: ObjectMeta(name: "x"), spec: .init(holderIdentity: "me"))
        #expect(KubernetesSchema.problems(try KubernetesSchema.encoded(fresh), as: "io.k8s.api.coordination.v1.Lease") == [])
        // The check itself finds strangers, deep down too.
        #expect(KubernetesSchema.problems(Data(#"{"bogus":1,"spec":{"holder":"x"}}"#.utf8), as: "io.k8s.api.coordination.v1.Lease").sorted()
                == [".bogus: not a field of io.k8s.api.coordination.v1.Lease", ".spec.holder: not a field of io.k8s.api.coordination.v1.LeaseSpec"])
    }
}
