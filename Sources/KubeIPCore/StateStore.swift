#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What this instance held last, kept across restarts so it asks for the same address first.
public struct HeldAddressRecord: Sendable, Codable, Equatable {
    public var instanceID: String
    public var family: IPFamily
    public var addressID: String
    public var ip: String
    public var since: Date

    public init(instanceID: String, family: IPFamily, addressID: String, ip: String, since: Date) {
        self.instanceID = instanceID
        self.family = family
        self.addressID = addressID
        self.ip = ip
        self.since = since
    }
}

/// Persists ``HeldAddressRecord``s (production: a file in `$STATE_DIRECTORY`, written atomically).
public protocol StateStore: Sendable {
    /// The records last saved; empty when there are none or they cannot be read.
    func load() async -> [HeldAddressRecord]
    /// Replaces the saved records.
    func save(_ records: [HeldAddressRecord]) async throws
}

/// A state store that forgets on exit: tests, `check` and the demo.
public actor InMemoryStateStore: StateStore {
    private var records: [HeldAddressRecord]
    public init(_ records: [HeldAddressRecord] = []) { self.records = records }
    public func load() async -> [HeldAddressRecord] { records }
    public func save(_ records: [HeldAddressRecord]) async throws { self.records = records }
}
