import KubeIPCore

/// Per-address claim coordination in memory, with the semantics of kube mode's Leases: one
/// holder per address at a time, taken atomically, given up when the claim is settled. For the
/// simulator, the demo and tests.
public actor InMemoryClaimCoordinator {
    private var holders: [String: String] = [:]

    public init() {}

    /// Makes `holder` hold the right to claim `addressID` (as another instance would), or clears it.
    public func setHolder(_ holder: String?, of addressID: String) { holders[addressID] = holder }

    /// Who holds the right to claim `addressID` now.
    public func holder(of addressID: String) -> String? { holders[addressID] }

    func take(_ addressID: String, for holder: String) -> String? {
        if let current = holders[addressID], current != holder { return current }
        holders[addressID] = holder
        return nil
    }

    func give(_ addressID: String, by holder: String) {
        if holders[addressID] == holder { holders[addressID] = nil }
    }

    /// A coordinator for one instance.
    public nonisolated func coordinator() -> any ClaimCoordinator { Member(ledger: self) }

    struct Member: ClaimCoordinator {
        let ledger: InMemoryClaimCoordinator

        func coordinate<T: Sendable>(claimOf address: PoolAddress, by identity: InstanceIdentity,
                                     _ claim: @Sendable () async throws -> T) async throws -> Coordinated<T> {
            if let other = await ledger.take(address.id, for: identity.instanceID) { return .busy(holder: other) }
            do {
                let result = try await claim()
                await ledger.give(address.id, by: identity.instanceID)
                return .ran(result)
            } catch {
                await ledger.give(address.id, by: identity.instanceID)
                throw error
            }
        }
    }
}
