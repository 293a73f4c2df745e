/// An address this instance holds, with how it came to hold it.
public struct Assignment: Sendable, Equatable {
    public var family: IPFamily
    public var address: PoolAddress
    public var identity: InstanceIdentity
    /// True when the address was already attached at start (a restart), false when claimed now.
    public var adopted: Bool

    public init(family: IPFamily, address: PoolAddress, identity: InstanceIdentity, adopted: Bool) {
        self.family = family
        self.address = address
        self.identity = identity
        self.adopted = adopted
    }

    /// `203.0.113.7 (eipalloc-0abc) on eni-0def of i-0123`
    public var summary: String {
        "\(address.ip) (\(address.id)) on \(identity.interfaceID) of \(identity.name ?? identity.instanceID)"
    }
}

/// Progress the engine reports; the systemd adapter turns each into a `STATUS=` line,
/// the demo narrates them.
public enum EngineEvent: Sendable, Equatable {
    case identifying
    case identified(InstanceIdentity)
    case listed(family: IPFamily, total: Int, free: Int)
    case adopted(Assignment)
    case attempting(PoolAddress)
    case lostRace(PoolAddress)
    /// Another instance is claiming the address now (its coordination lease is held): skipped untried.
    case busy(PoolAddress, holder: String)
    case claimed(Assignment)
    /// No address could be claimed; `free` counts those listed free but taken by others first.
    case waiting(family: IPFamily, total: Int, free: Int, retryIn: Duration, look: Int)
    case transientError(String, retryIn: Duration)
    case verified(Assignment)
    case lost(Assignment)
    case releasing(Assignment)
    case released(Assignment)

    /// One line for `systemctl status` (`STATUS=`) and for logs.
    public var statusLine: String {
        switch self {
        case .identifying: "identifying this instance"
        case .identified(let id): "identified \(id.instanceID) in \(id.zone), interface \(id.interfaceID)"
        case .listed(let family, let total, let free): "pool (\(family.rawValue)): \(total) address\(total == 1 ? "" : "es"), \(free) free"
        case .adopted(let a): "holding \(a.summary) (kept from before)"
        case .attempting(let addr): "claiming \(addr.ip) (\(addr.id))"
        case .lostRace(let addr): "\(addr.ip) (\(addr.id)) was taken by another instance, trying the next"
        case .busy(let addr, let holder): "\(addr.ip) (\(addr.id)) is being claimed by \(holder), trying the next"
        case .claimed(let a): "holding \(a.summary)"
        case .waiting(let family, let total, let free, let retryIn, _):
            free == 0
                ? "waiting: no free \(family.rawValue) address in pool of \(total), next look in \(retryIn.shortDescription)"
                : "waiting: the \(free) free \(family.rawValue) address\(free == 1 ? "" : "es") of the pool of \(total) went to other instances first, next look in \(retryIn.shortDescription)"
        case .transientError(let message, let retryIn): "cloud error, retrying in \(retryIn.shortDescription): \(message)"
        case .verified(let a): "holding \(a.summary)"
        case .lost(let a): "lost \(a.address.ip) (\(a.address.id)): it is no longer on \(a.identity.interfaceID), claiming again"
        case .releasing(let a): "releasing \(a.summary)"
        case .released(let a): "released \(a.address.ip) (\(a.address.id))"
        }
    }
}

/// Receives engine progress.
public protocol EngineObserver: Sendable {
    func record(_ event: EngineEvent)
}

/// Discards events.
public struct NoEngineObserver: EngineObserver {
    public init() {}
    public func record(_ event: EngineEvent) {}
}

/// Hands every event to each of `observers`, in order.
public struct CombinedObserver: EngineObserver {
    let observers: [any EngineObserver]
    public init(_ observers: [any EngineObserver]) { self.observers = observers }
    public func record(_ event: EngineEvent) {
        for observer in observers { observer.record(event) }
    }
}
