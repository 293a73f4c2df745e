import KubeIPCore
import KubeIPKube
import Logging

/// The kube-mode daemon: the ``KubeIPCore/DaemonLoop`` with the ``NodeRole``, beside the host
/// mode's ``KubeIPCore/HostDaemon``. Give the engine a ``LeaseCoordinator`` and the role's
/// ``NodeRole/observer()``.
public struct NodeDaemon: Sendable {
    private let loop: DaemonLoop

    public init(engine: AddressEngine, role: NodeRole, notifier: any ServiceNotifier, health: DaemonHealth,
                clock: any WallClock, random: any RandomSource = SystemRandom(), releasePolicy: ReleasePolicy,
                reload: @escaping @Sendable () async throws -> DaemonConfiguration,
                logger: Logger = Logger(label: "kubeip.daemon")) {
        loop = DaemonLoop(engine: engine, role: role, notifier: notifier, health: health, clock: clock, random: random,
                          releasePolicy: releasePolicy, reload: reload, logger: logger)
    }

    /// Runs until a stop is requested; throws on a fatal error, after telling the service manager.
    public func run() async throws -> DaemonOutcome {
        try await loop.run()
    }
}

/// Finds this kubeip's Node.
public enum NodeLocator {
    /// The Downward API file kubeip v2's manifests mount.
    public static let podinfoPath = "/etc/podinfo/nodeName"

    /// The Node's name: the `node-name` setting, else the Downward API file, else the host name
    /// (what kubelet registers unless told otherwise), lower-cased.
    /// - Throws: `.invalidSetting` naming `node-name` when none of them gives a name.
    public static func nodeName(setting: String?, readFile: (String) -> String?, hostname: () -> String?) throws -> String {
        if let setting, !setting.isEmpty { return setting }
        if let text = readFile(podinfoPath)?.trimmedWhitespace, !text.isEmpty { return text }
        if let host = hostname()?.trimmedWhitespace.lowercased(), !host.isEmpty { return host }
        throw KubeIPError.invalid("node-name", "cannot tell which Node this is: set node-name (NODE_NAME, from the Downward API's spec.nodeName)")
    }

    /// Reads the Node and its machine, waiting (and saying so) while the Node is not registered
    /// yet or has no providerID (the cloud-controller-manager sets it): at boot, kubeip may start
    /// before kubelet has registered its Node. Without `requests` it looks once.
    /// - Throws: ``KubeIPCore/Interrupted`` when a stop is requested first; `.identity` for a
    ///   providerID kube mode cannot use, or for a Node not there when looking once; the client's
    ///   errors for a refused call (401, 403).
    public static func find(_ name: String, client: KubernetesClient, requests: DaemonRequests?, clock: any WallClock,
                            random: any RandomSource, status: @Sendable (String) -> Void,
                            logger: Logger) async throws -> (Node, NodeMachine) {
        var attempt = 0
        while true {
            let why: String
            do {
                let node = try await client.getNode(name)
                if node.spec?.providerID?.isEmpty == false { return (node, try NodeMachine.of(node)) }
                why = "Node \(name) has no providerID yet"
            } catch let error as KubeAPIError where error.reason == .notFound {
                why = "Node \(name) is not registered yet"
            } catch let error as KubeAPIError where error.isRetryable {
                why = "the Kubernetes API is unavailable (\(error))"
            } catch let error as KubeIPError where error.isRetryable {
                why = "the Kubernetes API is unavailable (\(error.message))"
            } catch {
                throw KubernetesClient.coreError(error)
            }
            guard let requests else { throw KubeIPError(.identity, why, resource: "nodes/\(name)") }
            let pause = Backoff(initial: .seconds(2), cap: .seconds(30)).delay(attempt: attempt, random: random)
            attempt += 1
            logger.notice("\(why), looking again", metadata: ["retry_in": "\(pause.shortDescription)"])
            status("\(why), looking again in \(pause.shortDescription)")
            guard try await requests.pause(for: pause, on: clock) else { throw Interrupted() }
        }
    }
}
