#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPKube
import Logging

/// Records `events.k8s.io/v1` Events about this Node (`kubectl describe node`, `kubectl events
/// --for node/<name>`), without ever holding up the daemon: events are queued and sent in order by
/// one task, each reason at most once per its minimum interval (a pool that stays empty says
/// "waiting" every ten minutes, not every look), and a failure to record one is only logged.
public actor NodeEvents {
    /// `reportingController` of every event.
    public static let controller = "kubeip.com/kubeip"

    /// What happened, in the API's words: `reason` (UpperCamelCase), `action`, `type`, a note.
    public struct Draft: Sendable, Equatable {
        public var reason: String
        public var action: String
        public var type: EventType
        public var note: String
        /// The shortest gap between two events of this reason.
        public var minimumInterval: Duration

        public init(reason: String, action: String, type: EventType = .normal, note: String,
                    minimumInterval: Duration = .zero) {
            self.reason = reason
            self.action = action
            self.type = type
            self.note = note
            self.minimumInterval = minimumInterval
        }
    }

    let client: KubernetesClient
    let namespace: String
    let node: NodeReference
    let instance: String
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    private var queue: [Draft] = []
    private var sending = false
    private var lastSent: [String: Date] = [:]
    private var warnedForbidden = false
    private var idleWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var waiterSerial: UInt64 = 0

    /// - Parameters:
    ///   - namespace: where the events are recorded (the lease namespace).
    ///   - instance: `reportingInstance` (this process's holder identity).
    public init(client: KubernetesClient, namespace: String, node: NodeReference, instance: String,
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.events")) {
        self.client = client
        self.namespace = namespace
        self.node = node
        self.instance = String(instance.prefix(128))
        self.clock = clock
        self.random = random
        self.logger = logger
    }

    /// Queues `draft` (dropped when its reason was recorded less than its interval ago).
    public func record(_ draft: Draft) {
        let now = clock.now
        if let last = lastSent[draft.reason], now.timeIntervalSince(last) < draft.minimumInterval.seconds { return }
        lastSent[draft.reason] = now
        queue.append(draft)
        guard !sending else { return }
        sending = true
        Task { await self.drain() }
    }

    /// Queues `draft` from synchronous code (an engine observer).
    public nonisolated func post(_ draft: Draft) {
        Task { await self.record(draft) }
    }

    /// Waits until every queued event was sent (or failed), or `limit` has passed: before the
    /// process ends, whose stop must end in time whatever the API server does.
    public func flush(within limit: Duration) async {
        guard sending || !queue.isEmpty else { return }
        _ = try? await withDeadline(limit, on: clock) { await self.idle() }
    }

    /// Returns once the queue is empty and nothing is being sent, or the caller is cancelled.
    private func idle() async {
        guard sending || !queue.isEmpty else { return }
        waiterSerial += 1
        let id = waiterSerial
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume() } else { idleWaiters[id] = continuation }
            }
        } onCancel: {
            Task { await self.stopWaiting(id) }
        }
    }

    private func stopWaiting(_ id: UInt64) {
        idleWaiters.removeValue(forKey: id)?.resume()
    }

    private func drain() async {
        while !queue.isEmpty {
            let draft = queue.removeFirst()
            await send(draft)
        }
        sending = false
        let waiters = idleWaiters.values
        idleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    private func send(_ draft: Draft) async {
        let now = clock.now
        let suffix = String(UInt64(now.timeIntervalSince1970 * 1e9), radix: 16)
            + String(UInt32(random.nextUnit() * Double(UInt16.max)), radix: 16)
        let event = Event(metadata: ObjectMeta(name: "\(node.name).\(suffix)", namespace: namespace),
                          eventTime: MicroTime(now), reportingController: Self.controller, reportingInstance: instance,
                          action: draft.action, reason: draft.reason,
                          regarding: ObjectReference(apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid),
                          note: draft.note, type: draft.type)
        do {
            _ = try await client.createEvent(namespace: namespace, event)
        } catch let error as KubeAPIError where error.reason == .forbidden {
            if !warnedForbidden {
                warnedForbidden = true
                logger.warning("cannot record Events: \(error.kubeIPError.message)")
            }
        } catch {
            logger.debug("could not record an Event", metadata: ["reason": "\(draft.reason)", "error": "\(error)"])
        }
    }
}

/// The Node events are about.
public struct NodeReference: Sendable, Equatable {
    public var name: String
    public var uid: String?

    public init(name: String, uid: String?) {
        self.name = name
        self.uid = uid
    }
}
