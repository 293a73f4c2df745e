/// Decides in which order this instance tries the free addresses.
///
/// With ORDER_BY, the user's order. Without it, the address this instance held last comes
/// first (a restart returns to its address), then the rest rotated by a per-instance offset,
/// so that instances booting together start at different addresses instead of all racing
/// for the first one.
public enum CandidateOrder {
    public static func order(_ free: [PoolAddress], ordering: AddressOrdering?, preferredID: String?,
                             instanceID: String) -> [PoolAddress] {
        if let ordering { return ordering.sorted(free) }
        var rest = free.sorted { $0.id < $1.id }
        var head: [PoolAddress] = []
        if let preferredID, let index = rest.firstIndex(where: { $0.id == preferredID }) {
            head.append(rest.remove(at: index))
        }
        guard !rest.isEmpty else { return head }
        let offset = Int(stableHash(instanceID) % UInt64(rest.count))
        return head + Array(rest[offset...] + rest[..<offset])
    }

    /// FNV-1a: the same on every run and every machine (Swift's `Hasher` is seeded per process).
    public static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
