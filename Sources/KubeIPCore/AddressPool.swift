/// The cloud's pool of reserved addresses, as the engine needs it.
///
/// An adapter implements these few operations with the cloud's own conditional
/// primitives; the engine decides everything else (order, retries, hold, release).
public protocol AddressPool: Sendable {
    /// The addresses of `family` that match the user's filter, each with its current holder.
    func addresses(family: IPFamily, for identity: InstanceIdentity) async throws -> [PoolAddress]

    /// Reads one address back; nil when it no longer exists or no longer matches.
    func address(id: String, family: IPFamily, for identity: InstanceIdentity) async throws -> PoolAddress?

    /// Attaches a free address to the identity's primary interface, atomically: when any other
    /// interface holds it (or takes it first), throws ``KubeIPError`` with code `.conflict`
    /// and changes nothing.
    func attach(_ address: PoolAddress, to identity: InstanceIdentity) async throws

    /// Detaches `address` from this instance; succeeds when it is already detached.
    func detach(_ address: PoolAddress, from identity: InstanceIdentity) async throws

    /// Runs one claim round: `body` tries candidates (``attach(_:to:)`` and read back) and returns
    /// the address it attached and confirmed, or nil when it attached none. The engine opens the
    /// round; the adapter closes it when `body` returns or throws, and may leave the instance as it
    /// must be after a round: a cloud that takes something away before attaching (GCE's ephemeral
    /// access config) puts it back when the round attached nothing. The default just runs `body`.
    /// - Returns: what `body` returned.
    func claimRound(family: IPFamily, for identity: InstanceIdentity,
                    _ body: @Sendable () async throws -> PoolAddress?) async throws -> PoolAddress?
}

extension AddressPool {
    public func claimRound(family: IPFamily, for identity: InstanceIdentity,
                           _ body: @Sendable () async throws -> PoolAddress?) async throws -> PoolAddress? {
        try await body()
    }
}

/// A cloud, as the engine sees it: who we are, and the pool.
public struct CloudAdapter: Sendable {
    /// `aws`, `gcp`, `simulated`, ...
    public var name: String
    public var identity: any IdentityProvider
    public var pool: any AddressPool

    public init(name: String, identity: any IdentityProvider, pool: any AddressPool) {
        self.name = name
        self.identity = identity
        self.pool = pool
    }
}
