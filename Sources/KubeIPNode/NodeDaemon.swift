import KubeIPCore
import KubeIPKube
import Logging

/// The kube-mode daemon: the ``KubeIPCore/DaemonLoop`` with the ``NodeRole``, beside the host
/// mode's ``KubeIPCore/HostDaemon``. Give the engine a ``LeaseCoordinator`` and the role's
/// ``NodeRole/observer()``.
public struct NodeDaemon: Sendable {
    private let loop: DaemonLoop

    /// - Parameters:
    ///   - engine: built with a ``LeaseCoordinator`` and an observer that includes the role's
    ///     ``NodeRole/observer()`` and ``KubeIPCore/DaemonHealth/observing(_:)``.
    ///   - reload: builds a fresh configuration on a reload request (the Node stays the same).
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
                            random: any RandomSource, status: @escaping @Sendable (String) -> Void,
                            logger: Logger) async throws -> (Node, NodeMachine) {
        /// Not there yet: the Node, or its providerID, comes with kubelet and the cloud-controller-manager.
        struct NotYet: Error { let why: String }
        let look: @Sendable () async throws -> (Node, NodeMachine) = {
            let node: Node
            do {
                node = try await client.getNode(name)
            } catch let error as KubeAPIError where error.reason == .notFound {
                throw NotYet(why: "Node \(name) is not registered yet")
            }
            guard node.spec?.providerID?.isEmpty == false else { throw NotYet(why: "Node \(name) has no providerID yet") }
            return (node, try NodeMachine.of(node))
        }
        let waitOut: (any Error) -> String? = { ($0 as? NotYet)?.why ?? PatientKube.transient($0) }
        do {
            guard let requests else {
                do {
                    return try await look()
                } catch let notYet as NotYet {
                    throw KubeIPError(.identity, notYet.why, resource: "nodes/\(name)")
                }
            }
            // Before the daemon loop there is nothing to reload: a reload only ends the wait.
            while true {
                do {
                    return try await PatientKube(requests: requests, clock: clock, random: random, status: status,
                                                 logger: logger).call("finding Node \(name)", waitOut: waitOut, look)
                } catch is Interrupted where !requests.isStopRequested {
                    _ = requests.takeReload()
                    logger.info("reload requested while waiting for the Node: the settings are read at start")
                }
            }
        } catch let error as Interrupted {
            throw error
        } catch {
            throw KubernetesClient.coreError(error)
        }
    }
}
