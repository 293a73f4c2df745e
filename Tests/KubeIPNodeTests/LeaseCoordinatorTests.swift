import Foundation
import KubeIPCore
import KubeIPKube
import KubeIPSimulator
import Testing
@testable import KubeIPNode

@Suite struct LeaseNamingTests {
    @Test func leaseNamesAreDNSSubdomainsPerRegionAndAddress() {
        #expect(LeaseCoordinator.leaseName(for: PoolAddress(id: "eipalloc-0ABC", ip: "x"), region: "eu-west-1")
                == "kubeip-eu-west-1-eipalloc-0abc")
        #expect(LeaseCoordinator.leaseName(for: PoolAddress(id: "edge_1", ip: "x"), region: "europe-west1")
                == "kubeip-europe-west1-edge-1")
        let long = LeaseCoordinator.leaseName(for: PoolAddress(id: String(repeating: "a", count: 300) + "-", ip: "x"), region: "r")
        #expect(long.count <= 253 && long.last != "-")
    }

    @Test func holdersArePerNodeAndPerProcess() {
        let a = LeaseCoordinator.holderIdentity(node: "n1", random: SeededRandom(seed: 1))
        let b = LeaseCoordinator.holderIdentity(node: "n1", random: SeededRandom(seed: 2))
        #expect(a.hasPrefix("n1_") && a.count == "n1_".count + 8)
        #expect(a != b)
    }

    @Test func expiryIsJudgedFromTheRenewTimeAndTheDuration() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func lease(renewed: Double?, seconds: Int?) -> Lease {
            Lease(metadata: ObjectMeta(name: "l"),
                  spec: .init(holderIdentity: "n2_1", leaseDurationSeconds: seconds,
                              renewTime: renewed.map { MicroTime(now.addingTimeInterval($0)) }))
        }
        #expect(!LeaseCoordinator.hasExpired(lease(renewed: -4, seconds: 5), at: now))
        #expect(LeaseCoordinator.hasExpired(lease(renewed: -6, seconds: 5), at: now))
        #expect(LeaseCoordinator.hasExpired(lease(renewed: nil, seconds: 5), at: now))
        #expect(LeaseCoordinator.hasExpired(lease(renewed: -1, seconds: nil), at: now))
    }
}
