import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPKube
import KubeIPSimulator
import KubeIPTestSupport
import Logging
import Synchronization
import Testing
@testable import KubeIPNode

/// The Lease coordinator against the Kubernetes API double: create, busy, take-over, renewal,
/// delete, and the answers a network loses.
@Suite struct LeaseCoordinatorDoubleTests {
    static let token = "kubeip-token"
    static let address = PoolAddress(id: "eipalloc-0abc", ip: "203.0.113.7")
    static let me = InstanceIdentity(cloud: "aws", instanceID: "i-1", region: "eu-west-1", zone: "eu-west-1a",
                                     interfaceID: "eni-1")
    static let leaseName = "kubeip-eu-west-1-eipalloc-0abc"

    /// Forwards to the double; the first request matching `lose` is served, but its answer is
    /// replaced by a 503 (the network lost it), so the client tries again.
    final class LosingClient: HTTPClient {
        let inner: KubernetesDoubleClient
        let lose: @Sendable (HTTPRequest) -> Bool
        let lost = Mutex(false)

        init(inner: KubernetesDoubleClient, lose: @escaping @Sendable (HTTPRequest) -> Bool) {
            self.inner = inner
            self.lose = lose
        }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let response = try await inner.send(request)
            let drop = lost.withLock { done -> Bool in
                guard !done, lose(request) else { return false }
                done = true
                return true
            }
            return drop ? HTTPResponse(status: 503, body: Array("upstream connect error".utf8)) : response
        }
    }

    struct World {
        let double: KubernetesAPIDouble
        let clock: any WallClock

        init(clock: any WallClock = ManualClock(autoAdvance: true), grants: [RBACRule]? = nil) async {
            self.clock = clock
            var configuration = KubernetesAPIDouble.Configuration(
                users: [LeaseCoordinatorDoubleTests.token: .serviceAccount(namespace: "kube-system", name: "kubeip")])
            if let grants {
                var policy = RBACPolicy()
                policy.grant(grants, to: "system:serviceaccount:kube-system:kubeip", namespace: "kube-system")
                configuration.rbac = policy
            }
            double = KubernetesAPIDouble(configuration: configuration, clock: clock)
        }

        func coordinator(holder: String = "node-1_0000abcd", duration: Duration = .seconds(5),
                         lose: (@Sendable (HTTPRequest) -> Bool)? = nil) -> LeaseCoordinator {
            let http: any HTTPClient = lose.map { LosingClient(inner: double.client(token: LeaseCoordinatorDoubleTests.token), lose: $0) }
                ?? double.client(token: LeaseCoordinatorDoubleTests.token)
            let client = KubernetesClient(connection: KubeConnection(server: "https://kube.test",
                                                                     credentials: .token(KubeSecret(LeaseCoordinatorDoubleTests.token)),
                                                                     origin: "test"),
                                          http: http, clock: clock, random: FixedRandom(),
                                          logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            return LeaseCoordinator(client: client, namespace: "kube-system", holder: holder, duration: duration, clock: clock,
                                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        }

        func holder() async -> String? {
            await double.lease(namespace: "kube-system", name: LeaseCoordinatorDoubleTests.leaseName)?[path: ["spec", "holderIdentity"]]?.stringValue
        }

        /// A Lease of the address held by `holder`, last renewed `age` ago.
        func seed(holder: String, age: Duration, duration: Int = 5) async throws {
            let renewed = RFC3339.format(clock.now.addingTimeInterval(-age.seconds), fractionDigits: 6)
            let body = #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"\#(LeaseCoordinatorDoubleTests.leaseName)"},"spec":{"holderIdentity":"\#(holder)","leaseDurationSeconds":\#(duration),"acquireTime":"\#(renewed)","renewTime":"\#(renewed)"}}"#
            let response = try await double.client(token: LeaseCoordinatorDoubleTests.token).send(HTTPRequest(
                method: "POST", url: "https://kube.test/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
                headers: [HTTPHeader("Authorization", "Bearer \(LeaseCoordinatorDoubleTests.token)"),
                          HTTPHeader("Content-Type", "application/json")], body: Array(body.utf8)))
            precondition(response.status == 201, "seeding the lease answered \(response.status): \(response.text)")
        }
    }

    @Test func theClaimRunsInsideTheLeaseWhichIsGoneOnceSettled() async throws {
        let world = await World()
        let outcome = try await world.coordinator().coordinate(claimOf: Self.address, by: Self.me) {
            await world.holder()
        }
        guard case .ran(let holderDuringClaim) = outcome else { Issue.record("not run: \(outcome)"); return }
        #expect(holderDuringClaim == "node-1_0000abcd")
        #expect(await world.holder() == nil)
        let lease = await world.double.requests.filter { $0.resource == "leases" }.map(\.verb)
        #expect(lease == ["create", "delete"])
    }

    @Test func aLiveLeaseOfAnotherNodeIsBusyAndAnExpiredOneIsTakenOver() async throws {
        let world = await World()
        try await world.seed(holder: "node-2_11111111", age: .seconds(1))
        let busy = try await world.coordinator().coordinate(claimOf: Self.address, by: Self.me) { true }
        guard case .busy(let holder) = busy else { Issue.record("ran over a live lease"); return }
        #expect(holder == "node-2_11111111")
        #expect(await world.holder() == "node-2_11111111")

        let stale = await World()
        try await stale.seed(holder: "node-2_11111111", age: .seconds(60))
        let taken = try await stale.coordinator().coordinate(claimOf: Self.address, by: Self.me) {
            await stale.double.lease(namespace: "kube-system", name: Self.leaseName)?[path: ["spec", "leaseTransitions"]]?.intValue
        }
        guard case .ran(let transitions) = taken else { Issue.record("expired lease not taken over"); return }
        #expect(transitions == 1)
        #expect(await stale.holder() == nil)
        #expect(await stale.double.requests.filter { $0.resource == "leases" }.map(\.verb)
                == ["create", "create", "get", "update", "delete"])
    }

    @Test func aCreateWhoseAnswerWasLostIsStillOursAndIsDeleted() async throws {
        let world = await World()
        let coordinator = world.coordinator(lose: { $0.method == "POST" })
        let outcome = try await coordinator.coordinate(claimOf: Self.address, by: Self.me) { await world.holder() }
        guard case .ran(let holder) = outcome else { Issue.record("our own lease looked busy: \(outcome)"); return }
        #expect(holder == "node-1_0000abcd")
        #expect(await world.holder() == nil)
        #expect(await world.double.leases().isEmpty)
    }

    @Test func aRenewalWhoseAnswerWasLostKeepsTheLeaseAndTheDeleteStillLands() async throws {
        let world = await World(clock: AcceleratedClock(factor: 200))
        let coordinator = world.coordinator(duration: .seconds(3), lose: { $0.method == "PUT" })
        let clock = world.clock
        let double = world.double
        let outcome = try await coordinator.coordinate(claimOf: Self.address, by: Self.me) {
            // A claim that takes a while (a GCE swap): it lasts until the Lease was renewed twice,
            // the first renewal's answer lost.
            for _ in 0..<20_000 {
                if await double.requests.filter({ $0.resource == "leases" && $0.verb == "update" }).count >= 2 { break }
                try await clock.sleep(for: .milliseconds(500))
            }
            return await world.holder()
        }
        guard case .ran(let holder) = outcome else { Issue.record("not run"); return }
        #expect(holder == "node-1_0000abcd")
        let verbs = await world.double.requests.filter { $0.resource == "leases" }.map(\.verb)
        #expect(verbs.filter { $0 == "update" }.count >= 2)
        #expect(verbs.last == "delete")
        #expect(await world.double.leases().isEmpty)
    }

    @Test func aRefusedCreateIsANamedPermissionErrorAndTheClaimDoesNotRun() async throws {
        let world = await World(grants: [RBACRule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get"])])
        let ran = Flag()
        let error = await #expect(throws: KubeIPError.self) {
            _ = try await world.coordinator().coordinate(claimOf: Self.address, by: Self.me) { ran.set() }
        }
        #expect(error?.code == .permissionDenied)
        #expect(error?.description.contains("create") == true && error?.description.contains("leases") == true)
        #expect(!ran.isSet)
    }
}

final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
