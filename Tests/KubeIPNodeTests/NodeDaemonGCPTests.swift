import Foundation
import KubeIPCore
import KubeIPGCP
import KubeIPHTTP
import KubeIPKube
import KubeIPSimulator
import KubeIPTestSupport
import Logging
import Synchronization
import Testing
@testable import KubeIPNode

/// Kube mode on GCP, in process: the real engine, GCP adapter, Lease coordinator and Node role
/// against the Compute Engine double and the Kubernetes API double (on an accelerated clock), one
/// VM per Node.
@Suite struct NodeDaemonGCPTests {
    static let token = "kubeip-sa-token"
    static let startupTaint = "kubeip.com/not-ready"

    final class Notes: ServiceNotifier {
        private let log = Mutex<[String]>([])
        func ready(status: String) { log.withLock { $0.append("READY \(status)") } }
        func status(_ text: String) { log.withLock { $0.append("STATUS \(text)") } }
        func reloading() {}
        func stopping(status: String) { log.withLock { $0.append("STOPPING \(status)") } }
        func watchdog() {}
        var watchdogInterval: Duration? { nil }
        var lines: [String] { log.withLock { $0 } }
    }

    struct World {
        /// Simulated time runs twenty times faster: every pause really suspends, nothing spins, and
        /// a loaded machine's scheduling delays stay short next to the Leases' duration.
        let clock = AcceleratedClock(factor: 20)
        let gce: ComputeEngineDouble
        let kube: KubernetesAPIDouble
        /// Pool addresses named in addAccessConfig calls, with whether this node's Lease of the
        /// address was live at that moment.
        let attaches = AttachLog()

        init() async {
            gce = ComputeEngineDouble(configuration: .init(), clock: clock)
            kube = KubernetesAPIDouble(configuration: .init(users: [NodeDaemonGCPTests.token: Self.user]), clock: clock)
            for (name, ip) in zip(["edge-a", "edge-b"], Self.pool) {
                await gce.reserveAddress(name: name, ip: ip, labels: ["env": "prod"])
            }
        }

        static let user = KubernetesUser.serviceAccount(namespace: "kube-system", name: "kubeip")
        static let pool = ["198.51.100.20", "198.51.100.21"]

        func addVM(_ name: String) async {
            await gce.createInstance(name: name)
            _ = await kube.addNode(name: name, providerID: "gce://kubeip-sim/europe-west1-b/\(name)",
                                   taints: [.init(key: NodeDaemonGCPTests.startupTaint), .init(key: "example.com/gpu")])
        }

        /// The daemon for `vm`, and what it told its service manager.
        func daemon(_ vm: String) async throws -> (NodeDaemon, AddressEngine, Notes) {
            let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            let client = KubernetesClient(connection: KubeConnection(server: "https://kube.test",
                                                                     credentials: .token(KubeSecret(NodeDaemonGCPTests.token)),
                                                                     origin: "test"),
                                          http: kube.client(token: NodeDaemonGCPTests.token), clock: clock,
                                          random: FixedRandom(), logger: logger)
            let (node, machine) = try await NodeLocator.find(vm, client: client, requests: nil, clock: clock,
                                                             random: FixedRandom(), status: { _ in }, logger: logger)
            guard case .gcp(let project, let zone, let name, _) = machine else { throw KubeIPError(.identity, "not gce") }
            let holder = LeaseCoordinator.holderIdentity(node: vm, random: SeededRandom())
            let watched = Watched(inner: gce.client(for: vm), kube: kube, holder: holder, attaches: attaches)
            let cloud = try GCPCloud.make(filter: "labels.env=prod", orderBy: nil, project: project, region: nil,
                                          families: [.ipv4], environment: [:], http: watched, clock: clock,
                                          random: FixedRandom(),
                                          instance: GCPNodeIdentityProvider(project: project, zone: zone, name: name),
                                          logger: logger)
            let requests = DaemonRequests()
            let notes = Notes()
            let events = NodeEvents(client: client, namespace: "kube-system",
                                    node: NodeReference(name: vm, uid: node.metadata.uid), instance: holder, clock: clock,
                                    random: FixedRandom(), logger: logger)
            let role = NodeRole(configuration: .init(nodeName: vm, taintKey: NodeDaemonGCPTests.startupTaint),
                                client: client, events: events, requests: requests, shutdown: nil,
                                status: { notes.status($0) }, clock: clock, random: FixedRandom(), logger: logger)
            let health = DaemonHealth(clock: clock)
            let engine = AddressEngine(cloud: cloud, settings: EngineSettings(retryInterval: .seconds(10)),
                                       coordinator: LeaseCoordinator(client: client, namespace: "kube-system", holder: holder,
                                                                     duration: .seconds(60), clock: clock, logger: logger),
                                       requests: requests, clock: clock, random: FixedRandom(),
                                       observer: health.observing(role.observer()), logger: logger)
            let daemon = NodeDaemon(engine: engine, role: role, notifier: notes, health: health, clock: clock,
                                    random: FixedRandom(), releasePolicy: .shutdown,
                                    reload: { throw KubeIPError(.io, "no reload") }, logger: logger)
            return (daemon, engine, notes)
        }

        func staticIP(of vm: String) async -> String? {
            let ips = await gce.accessConfigs(of: vm).compactMap(\.natIP)
            return await gce.allAddresses().first { ips.contains($0.address) }?.address
        }

        func taints(of node: String) async -> [String] {
            await kube.node(node)?[path: ["spec", "taints"]]?.arrayValue?.compactMap { $0["key"]?.stringValue } ?? []
        }

        func annotation(of node: String) async -> String? {
            await kube.node(node)?[path: ["metadata", "annotations", "kubeip.com/public-ipv4"]]?.stringValue
        }

        func reasons() async -> [String] {
            await kube.events(namespace: "kube-system").compactMap { $0["reason"]?.stringValue }
        }
    }

    /// The VM's HTTP, watched: at each addAccessConfig naming a pool address, asks the API double
    /// whether this node holds that address's Lease right then.
    struct Watched: HTTPClient {
        let inner: GCEDoubleClient
        let kube: KubernetesAPIDouble
        let holder: String
        let attaches: AttachLog

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            // Only pool addresses: putting an ephemeral address back (by its natIP) needs no Lease.
            if request.url.contains("/addAccessConfig"), let body = try? JSONValue(parsing: request.body),
               let ip = body["natIP"]?.stringValue, World.pool.contains(ip) {
                let leased = await kube.leases().contains {
                    $0[path: ["spec", "holderIdentity"]]?.stringValue == holder
                        && $0[path: ["metadata", "annotations", "kubeip.com/address"]]?.stringValue == ip
                }
                attaches.add(ip, leased: leased)
            }
            return try await inner.send(request)
        }
    }

    /// Waits until `condition` holds; gives up after about 20 s of real time, so a broken test
    /// fails instead of hanging.
    static func eventually(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<20_000 {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return await condition()
    }

    @Test func aGKENodeGetsItsStaticAddressTheTaintGoesOnceReportedAndDeletionGivesItBack() async throws {
        let world = await World()
        await world.addVM("gke-pool-1-a")
        let (daemon, engine, notes) = try await world.daemon("gke-pool-1-a")
        let run = Task { try await daemon.run() }

        // Swapped in, inside its Lease, but not reported yet: the taint stays.
        #expect(await Self.eventually { await world.staticIP(of: "gke-pool-1-a") != nil })
        let ip = try #require(await world.staticIP(of: "gke-pool-1-a"))
        #expect(await Self.eventually { notes.lines.contains { $0.contains("to report \(ip) as its ExternalIP") } })
        #expect(await world.taints(of: "gke-pool-1-a").contains(Self.startupTaint))
        #expect(world.attaches.leased == [true])

        // The cloud-controller-manager reports it: only the startup taint goes.
        await world.kube.setExternalIP("gke-pool-1-a", ip)
        #expect(await Self.eventually { notes.lines.contains { $0.hasPrefix("READY holding \(ip)") } })
        #expect(await world.taints(of: "gke-pool-1-a") == ["example.com/gpu"])
        #expect(await world.annotation(of: "gke-pool-1-a") == ip)
        #expect(await world.kube.leases().isEmpty)

        // The Node is deleted (Karpenter, the autoscaler): the next check gives the address back
        // and an ephemeral one is put on nic0, so the VM keeps an external IP.
        await world.kube.markNodeForDeletion("gke-pool-1-a")
        #expect(await Self.eventually {
            let a = await world.gce.address("edge-a")?.status
            let b = await world.gce.address("edge-b")?.status
            return a == "RESERVED" && b == "RESERVED"
        })
        #expect(await Self.eventually { await world.gce.accessConfigs(of: "gke-pool-1-a").first?.isEphemeral == true })
        #expect(await Self.eventually { await world.reasons().contains("AddressReleased") })
        // Stopping with the Node gone: release-on-exit shutdown releases (nothing is left to give back).
        engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: true))
        #expect(await world.staticIP(of: "gke-pool-1-a") == nil)
    }

    @Test func twoNodesWithOneAddressOneWaitsAndNoVMLosesItsExternalIP() async throws {
        let world = await World()
        await world.addVM("gke-a")
        await world.addVM("gke-b")
        await world.addVM("gke-c")
        let (a, ea, _) = try await world.daemon("gke-a")
        let (b, eb, _) = try await world.daemon("gke-b")
        let (c, ec, _) = try await world.daemon("gke-c")
        let runs = [Task { try await a.run() }, Task { try await b.run() }, Task { try await c.run() }]
        #expect(await Self.eventually {
            var held = 0
            for vm in ["gke-a", "gke-b", "gke-c"] where await world.staticIP(of: vm) != nil { held += 1 }
            return held == 2
        })
        // Every swap ran inside the node's own Lease; once the rounds are over, every VM has
        // exactly one external IPv4 (the third one its ephemeral, put back).
        #expect(!world.attaches.leased.isEmpty && world.attaches.leased.allSatisfy { $0 })
        #expect(await Self.eventually {
            for vm in ["gke-a", "gke-b", "gke-c"] where await world.gce.accessConfigs(of: vm).count != 1 { return false }
            return true
        })
        for engine in [ea, eb, ec] { engine.requests.requestStop() }
        for run in runs { _ = try await run.value }
    }
}

/// The addAccessConfig calls a VM made, with whether its Lease was held at each.
final class AttachLog: Sendable {
    private let entries = Mutex<[(address: String, leased: Bool)]>([])
    func add(_ address: String, leased: Bool) { entries.withLock { $0.append((address, leased)) } }
    var leased: [Bool] { entries.withLock { $0.map(\.leased) } }
}
