/// Keeps instances from even trying the address another instance is claiming right now.
///
/// The engine calls it around every claim of a candidate (attach and read back): the claim runs
/// only while this instance holds the right to try that address. The cloud's atomic claim stays
/// the final arbiter; a coordinator only spares lost tries, which are not free (on GCE a lost try
/// costs the instance its external address for a while; on AWS it costs scarce mutating API
/// tokens). Coordination is per address, never one global lock.
///
/// Host mode needs none (``Uncoordinated``: one process per host, guarded by the file lock); kube
/// mode coordinates through one Kubernetes Lease per address.
public protocol ClaimCoordinator: Sendable {
    /// Runs `claim` while this instance holds the right to try `address`, and gives that right up
    /// once `claim` returns or throws (the claim is settled either way).
    /// - Returns: `.ran` with what `claim` returned; `.busy` without running it when another
    ///   instance is trying `address` now (move on to another candidate).
    /// - Throws: what `claim` throws, or a ``KubeIPError`` when the coordination itself fails
    ///   (the coordination service refused or could not be reached): no cloud call was made then.
    func coordinate<T: Sendable>(claimOf address: PoolAddress, by identity: InstanceIdentity,
                                 _ claim: @Sendable () async throws -> T) async throws -> Coordinated<T>
}

/// The outcome of a coordinated claim.
public enum Coordinated<T: Sendable>: Sendable {
    /// The claim ran (it may still have lost the race at the cloud).
    case ran(T)
    /// Another instance is claiming the address now; `holder` names it, for logs.
    case busy(holder: String)
}

/// No coordination: every claim runs at once (host mode).
public struct Uncoordinated: ClaimCoordinator {
    public init() {}

    public func coordinate<T: Sendable>(claimOf address: PoolAddress, by identity: InstanceIdentity,
                                        _ claim: @Sendable () async throws -> T) async throws -> Coordinated<T> {
        .ran(try await claim())
    }
}
