/// What to do with the held address when the daemon stops.
public enum ReleasePolicy: String, Sendable, CaseIterable, Codable {
    /// Release on every stop (kubeip v2's `true`).
    case always = "true"
    /// Never release (kubeip v2's `false`).
    case never = "false"
    /// Release only when the machine itself is shutting down, never on a restart.
    case shutdown
}

/// The engine's tunables, already validated by the configuration loader.
public struct EngineSettings: Sendable, Equatable {
    /// Families to hold, one address each.
    public var families: [IPFamily]
    /// ORDER_BY; nil means sticky-then-spread.
    public var ordering: AddressOrdering?
    /// Wait between looks at an empty pool (jittered by ±`jitter`).
    public var retryInterval: Duration
    /// Looks at an empty pool before giving up; 0 means forever.
    public var retryAttempts: Int
    /// Interval between hold checks once ready.
    public var reconcileInterval: Duration
    /// Fractional jitter applied to intervals.
    public var jitter: Double

    public init(families: [IPFamily] = [.ipv4], ordering: AddressOrdering? = nil,
                retryInterval: Duration = .seconds(60), retryAttempts: Int = 0,
                reconcileInterval: Duration = .seconds(300), jitter: Double = 0.2) {
        self.families = families
        self.ordering = ordering
        self.retryInterval = retryInterval
        self.retryAttempts = retryAttempts
        self.reconcileInterval = reconcileInterval
        self.jitter = jitter
    }
}
