import Logging

/// What a mode adds around the daemon's one loop (``DaemonLoop``): host mode only tells the
/// service manager; kube mode also waits for its Node to report the address, removes the startup
/// taint, annotates the Node, records Events and watches for the Node going away.
///
/// Every method may wait; a wait must end with ``Interrupted`` when a stop or reload is requested
/// (use ``DaemonRequests/pause(for:on:)``), and only fatal errors may escape otherwise.
public protocol DaemonRole: Sendable {
    /// Before the first claim. Returns false when nothing is to be claimed at all (the machine is
    /// going away already): the daemon then idles until stopped.
    func prepare() async throws -> Bool

    /// Makes a holding visible: called once every configured family is held, after each acquire
    /// (the first, a re-claim, a reload) and after each hold check. Returns once it is visible
    /// where it must be (kube mode: the Node reports the addresses, the taint is gone); cheap when
    /// nothing changed.
    func announce(_ assignments: [Assignment]) async throws

    /// Asked between hold checks: whether the machine is going away (kube mode: its Node is being
    /// deleted or drained for removal). The daemon then gives the addresses back and idles.
    func isGoingAway() async throws -> Bool

    /// How often the hold loop asks ``isGoingAway()``; nil means only with each hold check.
    var goingAwayCheckInterval: Duration? { get }

    /// The engine gave up (no free address after `retry-attempts` looks). Rethrow to stop the
    /// daemon with that error (host mode: exit 69), or return to idle (kube mode marks the Node).
    func gaveUp(_ error: KubeIPError) async throws

    /// Whether to give the addresses back on a requested stop, under `policy`.
    func releaseOnStop(policy: ReleasePolicy) async -> Bool

    /// The addresses were given back because the machine is going away, or on stop.
    func released(_ assignments: [Assignment]) async

    /// The daemon is ending: stopped on request, or failed with `error`.
    func ending(error: KubeIPError?) async
}

extension DaemonRole {
    public func prepare() async throws -> Bool { true }
    public func announce(_ assignments: [Assignment]) async throws {}
    public func isGoingAway() async throws -> Bool { false }
    public var goingAwayCheckInterval: Duration? { nil }
    public func gaveUp(_ error: KubeIPError) async throws { throw error }
    public func released(_ assignments: [Assignment]) async {}
    public func ending(error: KubeIPError?) async {}
}

/// Host mode: a VM (or a node image in host mode) whose only audience is systemd. It releases on
/// stop as the policy says, `shutdown` meaning the machine itself is going down.
public struct HostRole: DaemonRole {
    let shutdown: any ShutdownDetector
    let logger: Logger

    public init(shutdown: any ShutdownDetector, logger: Logger = Logger(label: "kubeip.daemon")) {
        self.shutdown = shutdown
        self.logger = logger
    }

    public func releaseOnStop(policy: ReleasePolicy) async -> Bool {
        switch policy {
        case .always: return true
        case .never: return false
        case .shutdown:
            let release = await shutdown.isSystemShuttingDown()
            logger.info(release ? "the machine is shutting down: releasing"
                                : "no machine shutdown under way (or systemd could not tell): keeping the address")
            return release
        }
    }
}
