import KubeIPCore

/// A pool that hands every call to `inner` (the simulated cloud's, with its real semantics) and
/// lets a test step in around attaches and claim rounds.
struct InterceptingPool: AddressPool {
    typealias Step = @Sendable () async throws -> Void
    typealias Round = @Sendable () async throws -> PoolAddress?

    let inner: any AddressPool
    /// Runs around every attach; call `proceed` to attach.
    var aroundAttach: @Sendable (_ address: PoolAddress, _ proceed: Step) async throws -> Void = { _, proceed in
        try await proceed()
    }
    /// Runs around every claim round; call `body` to run it (the inner pool's round is skipped).
    var aroundRound: @Sendable (_ body: Round) async throws -> PoolAddress? = { body in try await body() }

    func addresses(family: IPFamily, for identity: InstanceIdentity) async throws -> [PoolAddress] {
        try await inner.addresses(family: family, for: identity)
    }
    func address(id: String, family: IPFamily, for identity: InstanceIdentity) async throws -> PoolAddress? {
        try await inner.address(id: id, family: family, for: identity)
    }
    func attach(_ address: PoolAddress, to identity: InstanceIdentity) async throws {
        try await aroundAttach(address) { try await inner.attach(address, to: identity) }
    }
    func detach(_ address: PoolAddress, from identity: InstanceIdentity) async throws {
        try await inner.detach(address, from: identity)
    }
    func claimRound(family: IPFamily, for identity: InstanceIdentity, _ body: @Sendable () async throws -> PoolAddress?)
        async throws -> PoolAddress? {
        try await aroundRound(body)
    }
}

extension CloudAdapter {
    /// The same adapter with its pool wrapped.
    func intercepting(_ change: (inout InterceptingPool) -> Void) -> CloudAdapter {
        var pool = InterceptingPool(inner: self.pool)
        change(&pool)
        return CloudAdapter(name: name, identity: identity, pool: pool)
    }
}
