import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPKube
import KubeIPSimulator
import KubeIPTestSupport
import Logging
import Testing
@testable import KubeIPNode

/// The Node role against the Kubernetes API double: marks under failures and races, the taint
/// put back after a loss, and a stop that ends in time when the API does not answer.
@Suite struct NodeRoleTests {
    static let token = "kubeip-token"
    static let taint = "kubeip.com/not-ready"
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    struct World {
        let clock = AcceleratedClock(factor: 1000)
        let double: KubernetesAPIDouble
        let requests = DaemonRequests()

        init() async {
            double = KubernetesAPIDouble(configuration: .init(users: [NodeRoleTests.token: .serviceAccount(namespace: "kube-system", name: "kubeip")]),
                                         clock: clock)
            _ = await double.addNode(name: "n1", providerID: "aws:///eu-west-1a/i-1",
                                     taints: [.init(key: NodeRoleTests.taint), .init(key: "example.com/gpu")])
        }

        func client(_ http: (any HTTPClient)? = nil) -> KubernetesClient {
            KubernetesClient(connection: KubeConnection(server: "https://kube.test", credentials: .token(KubeSecret(NodeRoleTests.token)),
                                                        origin: "test"),
                             http: http ?? double.client(token: NodeRoleTests.token), clock: clock, random: FixedRandom(),
                             logger: NodeRoleTests.quiet)
        }

        func role(_ http: (any HTTPClient)? = nil, shutdown: (any ShutdownDetector)? = nil) -> NodeRole {
            let client = client(http)
            let events = NodeEvents(client: client, namespace: "kube-system", node: NodeReference(name: "n1", uid: nil),
                                    instance: "n1_1", clock: clock, random: FixedRandom(), logger: NodeRoleTests.quiet)
            return NodeRole(configuration: .init(nodeName: "n1", taintKey: NodeRoleTests.taint), client: client, events: events,
                            requests: requests, shutdown: shutdown, status: { _ in }, clock: clock, random: FixedRandom(),
                            logger: NodeRoleTests.quiet)
        }

        func taints() async -> [String] {
            await double.node("n1")?[path: ["spec", "taints"]]?.arrayValue?.compactMap { $0["key"]?.stringValue } ?? []
        }

        func label() async -> String? {
            await double.node("n1")?[path: ["metadata", "labels", NodeMarks.statusLabel]]?.stringValue
        }

        func annotation() async -> String? {
            await double.node("n1")?[path: ["metadata", "annotations", NodeMarks.ipv4Annotation]]?.stringValue
        }
    }

    static let assignment = Assignment(family: .ipv4, address: PoolAddress(id: "eipalloc-1", ip: "203.0.113.7"),
                                       identity: InstanceIdentity(cloud: "aws", instanceID: "i-1", region: "eu-west-1",
                                                                  zone: "eu-west-1a", interfaceID: "eni-1"),
                                       adopted: false)

    /// Waits up to about 20 s of real time for `condition`.
    static func eventually(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<20_000 {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return await condition()
    }

    @Test func marksWaitOutAnUnavailableAPIAndAConflictingWriter() async throws {
        let world = await World()
        let role = world.role()
        await world.double.setExternalIP("n1", "203.0.113.7")
        await world.double.injectFailure(status: 503, count: 2, verb: "patch")
        await world.double.injectFailure(status: 409, count: 1, verb: "patch")
        try await role.announce([Self.assignment])
        #expect(await world.taints() == ["example.com/gpu"])
        #expect(await world.label() == "assigned")
        #expect(await world.annotation() == "203.0.113.7")
    }

    @Test func aMarkSupersededByALaterOneIsNotAppliedLate() async throws {
        let world = await World()
        let role = world.role()
        let early = role.marks.next()
        let late = role.marks.next()
        try await role.mark(.assigned, order: late)
        try await role.mark(.waiting, order: early)
        #expect(await world.label() == "assigned")
    }

    @Test func aLostAddressPutsTheStartupTaintBackUntilItIsAnnouncedAgain() async throws {
        let world = await World()
        let role = world.role()
        await world.double.setExternalIP("n1", "203.0.113.7")
        try await role.announce([Self.assignment])
        #expect(await world.taints() == ["example.com/gpu"])
        role.observer().record(.lost(Self.assignment))
        #expect(await Self.eventually { await world.taints().contains(Self.taint) })
        #expect(await world.label() == "waiting")
        #expect(await world.annotation() == nil)
        try await role.announce([Self.assignment])
        #expect(await world.taints() == ["example.com/gpu"])
        #expect(await world.label() == "assigned")
    }

    /// An API that accepts connections and never answers (a blackholed API server).
    struct Silent: HTTPClient {
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            try await Task.sleep(for: .seconds(3600))
            throw CancellationError()
        }
    }

    @Test func aStopEndsInTimeWhenTheAPINeverAnswers() async throws {
        let world = await World()
        let role = world.role(Silent(), shutdown: nil)
        // Each step gives up after 10 s of simulated time; unbounded, they would wait for ever
        // (the outer bound only turns a hang into a failure).
        let ended = try await withDeadline(.seconds(120), on: SystemClock()) { () -> Bool in
            // shutdown: keep (the Node could not be read in time); the last marks and events give up too.
            let release = await role.releaseOnStop(policy: .shutdown)
            await role.released([Self.assignment])
            await role.ending(error: KubeIPError(.cloudAPI, "boom"))
            return !release
        }
        #expect(ended == true)
    }

    @Test func theMachineShuttingDownIsAskedFirst() async throws {
        struct Down: ShutdownDetector { func isSystemShuttingDown() async -> Bool { true } }
        let world = await World()
        #expect(await world.role(Silent(), shutdown: Down()).releaseOnStop(policy: .shutdown))
    }
}
