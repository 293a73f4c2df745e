#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPKube
import Logging
import Synchronization

/// Kube mode's part of the daemon loop, for one Node:
/// - the holding is announced only once the Node itself reports the address as an ExternalIP:
///   then the startup taint (`taint-key`) is removed, `kubeip.com/status=assigned` and the address
///   annotations are set, in one patch conditional on the Node's `resourceVersion` (retried when
///   another writer got there first), keeping every other taint;
/// - a Node being deleted or drained for removal (deletion timestamp, the cluster autoscaler's or
///   Karpenter's taint) gives its address back;
/// - on stop, `release-on-exit: shutdown` releases only when the Node (or, on a node image, the
///   machine) is going away; a pod restart or rollout keeps the address for the next pod to adopt;
/// - giving up (`retry-attempts`) marks the Node `kubeip.com/status=failed` and idles, rather than
///   crash-looping;
/// - every transition is an Event on the Node.
public struct NodeRole: DaemonRole {
    /// The fixed parts.
    public struct Configuration: Sendable {
        public var nodeName: String
        /// The startup taint to remove (`taint-key`); nil for none.
        public var taintKey: String?
        /// How often the Node is read for signs that it is going away.
        public var goingAwayCheckInterval: Duration
        /// How long to wait for the Node to report an address before warning (once) about it.
        public var reportPatience: Duration

        public init(nodeName: String, taintKey: String?, goingAwayCheckInterval: Duration = .seconds(30),
                    reportPatience: Duration = .seconds(300)) {
            self.nodeName = nodeName
            self.taintKey = taintKey.flatMap { $0.isEmpty ? nil : $0 }
            self.goingAwayCheckInterval = goingAwayCheckInterval
            self.reportPatience = reportPatience
        }
    }

    let configuration: Configuration
    let client: KubernetesClient
    let events: NodeEvents
    let requests: DaemonRequests
    let shutdown: (any ShutdownDetector)?
    let status: @Sendable (String) -> Void
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    let patient: PatientKube
    /// Orders the marks: a mark requested later wins over one still being retried.
    let marks = MarkOrder()
    /// The addresses last announced, so a reload or a hold check that changed nothing records
    /// no new Event.
    let announced = AnnouncedAddresses()
    /// How long the last steps of a stop may take on the Kubernetes API (a Node read, a label).
    static let stopBudget: Duration = .seconds(10)

    /// - Parameters:
    ///   - requests: the engine's requests (waits here end on them too).
    ///   - shutdown: on a node image (systemd), asks whether the machine is shutting down; nil in a pod.
    ///   - status: progress lines for the service manager; called at least once per wait step,
    ///     so it is where the daemon's health is kept current.
    public init(configuration: Configuration, client: KubernetesClient, events: NodeEvents, requests: DaemonRequests,
                shutdown: (any ShutdownDetector)?, status: @escaping @Sendable (String) -> Void,
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.node")) {
        self.configuration = configuration
        self.client = client
        self.events = events
        self.requests = requests
        self.shutdown = shutdown
        self.status = status
        self.clock = clock
        self.random = random
        self.logger = logger
        self.patient = PatientKube(requests: requests, clock: clock, random: random, status: status, logger: logger)
    }

    private var nodeName: String { configuration.nodeName }

    public var goingAwayCheckInterval: Duration? { configuration.goingAwayCheckInterval }

    // MARK: DaemonRole

    public func prepare() async throws -> Bool {
        let node = try await read()
        if let reason = NodeMarks.goingAway(node) {
            logger.notice("\(reason): claiming nothing", metadata: ["node": "\(nodeName)"])
            status("\(reason): claiming nothing")
            return false
        }
        // A restart of an assigned node keeps its label: the address is adopted at once.
        if node.metadata.labels?[NodeMarks.statusLabel] != NodeMarks.Status.assigned.rawValue {
            try await mark(.waiting, order: marks.next())
        }
        return true
    }

    public func announce(_ assignments: [Assignment]) async throws {
        try await waitForReport(of: assignments)
        try await mark(.assigned, held: assignments, taint: configuration.taintKey.map { .remove($0) } ?? .keep,
                       order: marks.next())
        for assignment in await announced.new(in: assignments) {
            let kind = assignment.adopted ? "Adopted" : "Assigned"
            let how = assignment.adopted ? "kept (already attached)" : "claimed and attached"
            await events.record(.init(reason: "Address\(kind)", action: assignment.adopted ? "Adopt" : "Assign",
                                      note: "\(assignment.address.ip) (\(assignment.address.id)) \(how) to \(assignment.identity.interfaceID); the Node reports it"
                                          + (configuration.taintKey.map { ", taint \($0) removed" } ?? "")))
        }
    }

    /// One read of the Node: gone, being deleted or drained for removal means going away; a
    /// read that fails for a while says no (the next check comes soon).
    public func isGoingAway() async throws -> Bool {
        do {
            return NodeMarks.goingAway(try await client.getNode(nodeName)) != nil
        } catch let error as KubeAPIError where error.reason == .notFound {
            return true
        } catch where PatientKube.isTransient(error) {
            logger.debug("cannot read the Node to check whether it is going away", metadata: ["error": "\(error)"])
            return false
        } catch {
            throw KubernetesClient.coreError(error)
        }
    }

    public func gaveUp(_ error: KubeIPError) async throws {
        logger.error("gave up: \(error); the Node stays tainted and is marked \(NodeMarks.statusLabel)=failed; restart kubeip to try again")
        await events.record(.init(reason: "GaveUp", action: "Assign", type: .warning, note: error.description))
        do {
            try await mark(.failed, order: marks.next())
        } catch let error as Interrupted {
            throw error
        } catch {
            logger.warning("cannot mark the Node failed", metadata: ["error": "\(error)"])
        }
    }

    /// `shutdown`: the machine itself going down (asked of systemd first: it answers at once),
    /// else the Node going away (one bounded read: a stop must end in time).
    public func releaseOnStop(policy: ReleasePolicy) async -> Bool {
        switch policy {
        case .always: return true
        case .never: return false
        case .shutdown:
            if let shutdown, await shutdown.isSystemShuttingDown() {
                logger.info("the machine is shutting down: releasing")
                return true
            }
            let goingAway = try? await withDeadline(Self.stopBudget, on: clock) { try await isGoingAway() }
            if goingAway == true {
                logger.info("the Node is going away: releasing")
                return true
            }
            logger.info("the Node stays (a restart, a rollout, an upgrade): keeping the address for the next kubeip")
            return false
        }
    }

    public func released(_ assignments: [Assignment]) async {
        for assignment in assignments {
            await events.record(.init(reason: "AddressReleased", action: "Release",
                                      note: "\(assignment.address.ip) (\(assignment.address.id)) given back to the pool"))
        }
        await announced.clear()
        let order = marks.next()
        do {
            _ = try await withDeadline(Self.stopBudget, on: clock) { try await mark(nil, held: [], order: order) }
        } catch {
            logger.debug("cannot clear the Node's kubeip label and annotations", metadata: ["error": "\(error)"])
        }
    }

    public func ending(error: KubeIPError?) async {
        if let error {
            await events.record(.init(reason: "Failed", action: "Assign", type: .warning, note: error.description))
            let order = marks.next()
            _ = try? await withDeadline(Self.stopBudget, on: clock) { try await mark(.failed, order: order) }
        }
        await events.flush(within: Self.stopBudget)
    }

    /// An observer that turns engine events into Node events and marks; give it to the engine.
    public func observer() -> any EngineObserver { EngineEvents(role: self) }

    struct EngineEvents: EngineObserver {
        let role: NodeRole
        func record(_ event: EngineEvent) {
            switch event {
            case .waiting:
                role.events.post(.init(reason: "WaitingForAddress", action: "Assign", note: event.statusLine,
                                       minimumInterval: .seconds(600)))
                let order = role.marks.next()
                Task { try? await role.mark(.waiting, order: order) }
            case .lost(let assignment):
                role.events.post(.init(reason: "AddressLost", action: "Assign", type: .warning,
                                       note: "\(assignment.address.ip) (\(assignment.address.id)) is no longer on \(assignment.identity.interfaceID); claiming again"
                                           + (role.configuration.taintKey.map { ", taint \($0) put back" } ?? "")))
                // Pods that need the address must not land here until it is back.
                let order = role.marks.next()
                let taint = role.configuration.taintKey.map { NodeMarks.TaintChange.add(Taint(key: $0, effect: .noSchedule)) }
                Task {
                    await role.announced.clear()
                    try? await role.mark(.waiting, held: [], taint: taint ?? .keep, order: order)
                }
            default:
                break
            }
        }
    }

    // MARK: The Node

    /// Reads the Node, waiting out transient failures (a request ends the wait).
    private func read() async throws -> Node {
        do {
            return try await patient.call("reading Node \(nodeName)") { try await client.getNode(nodeName) }
        } catch let error as Interrupted {
            throw error
        } catch {
            throw KubernetesClient.coreError(error)
        }
    }

    /// Waits until the Node reports every held IPv4 address as an ExternalIP (the cloud
    /// controller manager updates `status.addresses`), saying so, and warning once when it takes
    /// longer than the patience.
    private func waitForReport(of assignments: [Assignment]) async throws {
        let started = clock.now
        var pause = Duration.seconds(2)
        var warned = false
        while true {
            let node = try await read()
            let missing = NodeMarks.unreported(assignments, by: node)
            if missing.isEmpty { return }
            let ips = missing.map(\.address.ip).joined(separator: ", ")
            let waited = Duration.seconds(clock.now.timeIntervalSince(started))
            status("waiting for Node \(nodeName) to report \(ips) as its ExternalIP (\(waited.shortDescription) so far)")
            if !warned && waited >= configuration.reportPatience {
                warned = true
                logger.warning("the Node still does not report the address; the taint stays until it does",
                               metadata: ["node": "\(nodeName)", "address": "\(ips)"])
                await events.record(.init(reason: "AddressNotReported", action: "Assign", type: .warning,
                                          note: "\(ips) is attached but the Node has not reported it as an ExternalIP for \(waited.shortDescription); the taint stays until it does"))
            }
            guard try await requests.pause(for: Backoff.jittered(pause, fraction: 0.2, random: random), on: clock) else {
                throw Interrupted()
            }
            pause = min(pause * 2, .seconds(15))
        }
    }

    /// Sets the status label (nil: removes it) and the address annotations (nil: as they are),
    /// and changes the startup taint as `taint` says, in one patch conditional on the Node's
    /// resourceVersion: read and patched again when another writer changed the Node first. A
    /// mark superseded by a later one (`order`) is dropped rather than applied late.
    func mark(_ status: NodeMarks.Status?, held assignments: [Assignment]? = nil, taint: NodeMarks.TaintChange = .keep,
              order: UInt64) async throws {
        var conflicts = 0
        while marks.isLatest(order) {
            let node = try await read()
            let held = assignments.map { Dictionary($0.map { ($0.family, $0.address.ip) }, uniquingKeysWith: { a, _ in a }) }
            guard let patch = NodeMarks.patch(node, status: status, held: held ?? Self.currentAnnotations(node),
                                              taint: taint) else { return }
            do {
                _ = try await patient.call("marking Node \(nodeName)") {
                    guard marks.isLatest(order) else { throw Superseded() }
                    return try await client.patchNode(nodeName, patch)
                }
                if case .remove(let key) = taint, node.spec?.taints?.contains(where: { $0.key == key }) == true {
                    logger.info("removed the startup taint", metadata: ["node": "\(nodeName)", "taint": "\(key)"])
                }
                if case .add(let added) = taint { logger.notice("put the startup taint back", metadata: ["taint": "\(added.key)"]) }
                return
            } catch is Superseded {
                return
            } catch let error as KubeAPIError where error.reason == .invalid || error.reason == .conflict {
                // The resourceVersion test failed (someone else wrote the Node meanwhile): read
                // again. A refusal of a Node that did not change is a patch the API rejects: final.
                conflicts += 1
                let fresh = try await read()
                if error.reason == .invalid && fresh.metadata.resourceVersion == node.metadata.resourceVersion {
                    throw error.kubeIPError
                }
                guard conflicts < 10 else { throw error.kubeIPError }
                logger.debug("the Node changed meanwhile, patching again", metadata: ["node": "\(nodeName)"])
            } catch let error as Interrupted {
                throw error
            } catch {
                throw KubernetesClient.coreError(error)
            }
        }
    }

    private struct Superseded: Error {}

    /// The address annotations the Node carries now, by family.
    private static func currentAnnotations(_ node: Node) -> [IPFamily: String] {
        var held: [IPFamily: String] = [:]
        for family in IPFamily.allCases {
            if let ip = node.metadata.annotations?[NodeMarks.annotation(for: family)] { held[family] = ip }
        }
        return held
    }
}

/// Hands out increasing numbers to marks as they are requested; only the latest may still apply.
final class MarkOrder: Sendable {
    private let counter = Mutex<(issued: UInt64, latest: UInt64)>((0, 0))

    /// A number for a mark requested now (later than every number handed out before).
    func next() -> UInt64 {
        counter.withLock { c in
            c.issued += 1
            c.latest = c.issued
            return c.issued
        }
    }

    /// Whether no mark was requested after `order`.
    func isLatest(_ order: UInt64) -> Bool { counter.withLock { $0.latest == order } }
}

/// The addresses last announced on the Node.
actor AnnouncedAddresses {
    private var ids: Set<String> = []

    /// The assignments not announced before (and remembers them all).
    func new(in assignments: [Assignment]) -> [Assignment] {
        let fresh = assignments.filter { !ids.contains($0.address.id) }
        ids = Set(assignments.map(\.address.id))
        return fresh
    }

    func clear() { ids.removeAll() }
}

