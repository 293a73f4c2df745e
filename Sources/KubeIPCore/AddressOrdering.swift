/// ORDER_BY: a field of the cloud's address object (`PublicIp`, `AllocationId`) or a tag
/// (`Tag:<key>`), optionally followed by `asc` or `desc`.
///
/// IP fields compare numerically; an address missing the field sorts last either way.
public struct AddressOrdering: Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var descending: Bool

    public init(field: String, descending: Bool = false) {
        self.field = field
        self.descending = descending
    }

    /// Parses `Field`, `Field asc`, `Field desc`, `Tag:key`; names `order-by` when malformed.
    public init(parsing text: String) throws {
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first, words.count <= 2 else {
            throw KubeIPError.invalid("order-by", "expected a field name, optionally followed by 'asc' or 'desc' (e.g. 'PublicIp' or 'Tag:priority desc'), got '\(text)'")
        }
        if first.hasPrefix("Tag:") && first.count == 4 {
            throw KubeIPError.invalid("order-by", "'Tag:' needs a tag key, e.g. 'Tag:priority'")
        }
        var descending = false
        if words.count == 2 {
            switch words[1].lowercased() {
            case "asc": descending = false
            case "desc": descending = true
            default: throw KubeIPError.invalid("order-by", "the direction must be 'asc' or 'desc', got '\(words[1])'")
            }
        }
        self.init(field: first, descending: descending)
    }

    public var description: String { descending ? "\(field) desc" : field }

    /// Sorts `addresses` by this ordering; stable, empty values last, ties broken by id.
    public func sorted(_ addresses: [PoolAddress]) -> [PoolAddress] {
        addresses.sorted { a, b in
            let va = a.fields[field].flatMap { $0.isEmpty ? nil : $0 }
            let vb = b.fields[field].flatMap { $0.isEmpty ? nil : $0 }
            switch (va, vb) {
            case (nil, nil): return a.id < b.id
            case (nil, _): return false
            case (_, nil): return true
            case let (x?, y?):
                let order = AddressOrdering.compare(x, y)
                if order == 0 { return a.id < b.id }
                return descending ? order > 0 : order < 0
            }
        }
    }

    /// Compares two field values: as IP addresses when both parse, as integers when both
    /// parse, else as text. Returns -1, 0 or 1.
    static func compare(_ x: String, _ y: String) -> Int {
        if let a = IPAddressKey(x), let b = IPAddressKey(y) { return a < b ? -1 : (b < a ? 1 : 0) }
        if let a = Int(x), let b = Int(y) { return a < b ? -1 : (a > b ? 1 : 0) }
        return x < y ? -1 : (x > y ? 1 : 0)
    }
}

/// A sortable numeric key for an IPv4 or IPv6 address (IPv4 before IPv6).
struct IPAddressKey: Comparable {
    let bytes: [UInt8]

    init?(_ text: String) {
        if let v4 = IPAddressKey.parseV4(text) { bytes = v4; return }
        if let v6 = IPAddressKey.parseV6(text) { bytes = v6; return }
        return nil
    }

    static func < (a: IPAddressKey, b: IPAddressKey) -> Bool {
        if a.bytes.count != b.bytes.count { return a.bytes.count < b.bytes.count }
        return a.bytes.lexicographicallyPrecedes(b.bytes)
    }

    static func parseV4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let n = UInt8(part) else { return nil }
            out.append(n)
        }
        return out
    }

    static func parseV6(_ text: String) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
}
