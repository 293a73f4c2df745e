/// An RFC 6902 JSON Patch, built operation by operation with typed values:
///
/// ```swift
/// var patch = JSONPatch()
/// patch.test(["metadata", "resourceVersion"], node.metadata.resourceVersion)
/// patch.remove(JSONPointer("spec", "taints").appending(index: 2))
/// patch.add(["metadata", "annotations", "kubeip.io/address"], "203.0.113.7")
/// ```
///
/// The server applies every operation or none: a failed `test` (another writer got there first)
/// fails the whole patch with 422 Invalid, leaving the object untouched.
public struct JSONPatch: Encodable, Sendable {
    /// The operation kinds kubeip needs.
    public enum Op: String, Encodable, Sendable {
        case add, remove, replace, test
    }

    /// One operation: `{"op": …, "path": …, "value": …}`.
    public struct Operation: Encodable, Sendable {
        public var op: Op
        public var path: JSONPointer
        let value: AnyEncodable?

        enum CodingKeys: String, CodingKey { case op, path, value }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(op, forKey: .op)
            try container.encode(path.description, forKey: .path)
            if let value { try container.encode(value, forKey: .value) }
        }
    }

    /// The operations in order.
    public private(set) var operations: [Operation] = []

    /// An empty patch.
    public init() {}

    /// Fails the patch unless the value at `path` equals `value` (e.g. the resourceVersion read).
    public mutating func test(_ path: JSONPointer, _ value: some Encodable & Sendable) {
        operations.append(Operation(op: .test, path: path, value: AnyEncodable(value)))
    }

    /// Adds `value` at `path` (a member is added or replaced; `-` appends to an array).
    public mutating func add(_ path: JSONPointer, _ value: some Encodable & Sendable) {
        operations.append(Operation(op: .add, path: path, value: AnyEncodable(value)))
    }

    /// Replaces the existing value at `path`.
    public mutating func replace(_ path: JSONPointer, _ value: some Encodable & Sendable) {
        operations.append(Operation(op: .replace, path: path, value: AnyEncodable(value)))
    }

    /// Removes the value at `path` (which must exist).
    public mutating func remove(_ path: JSONPointer) {
        operations.append(Operation(op: .remove, path: path, value: nil))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for operation in operations { try container.encode(operation) }
    }
}

/// An RFC 6901 JSON Pointer, from unescaped reference tokens: `["metadata", "annotations",
/// "kubeip.io/address"]` is `/metadata/annotations/kubeip.io~1address` (`~` → `~0`, `/` → `~1`).
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// The reference tokens, unescaped.
    public var tokens: [String]

    public init(_ tokens: [String]) { self.tokens = tokens }
    public init(_ tokens: String...) { self.tokens = tokens }
    public init(arrayLiteral tokens: String...) { self.tokens = tokens }

    /// This pointer with `token` appended.
    public func appending(_ token: String) -> JSONPointer { JSONPointer(tokens + [token]) }

    /// This pointer with an array index appended.
    public func appending(index: Int) -> JSONPointer { appending(String(index)) }

    /// The escaped form (`""` for the whole document).
    public var description: String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    /// Parses the escaped form; nil when it does not start with `/` (and is not empty).
    public init?(parsing text: String) {
        if text.isEmpty { self.tokens = []; return }
        guard text.hasPrefix("/") else { return nil }
        self.tokens = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }
}

/// How a PATCH body is to be read by the API server.
public enum PatchType: Sendable, Hashable {
    /// RFC 6902 JSON Patch (`application/json-patch+json`): operations, with `test`.
    case json
    /// RFC 7386 JSON Merge Patch (`application/merge-patch+json`): `null` deletes a key.
    case merge
    /// Kubernetes strategic merge patch (`application/strategic-merge-patch+json`): lists merged by key.
    case strategicMerge

    /// The request's `Content-Type`.
    public var contentType: String {
        switch self {
        case .json: "application/json-patch+json"
        case .merge: "application/merge-patch+json"
        case .strategicMerge: "application/strategic-merge-patch+json"
        }
    }
}

/// A typed value, boxed so that operations of different value types live in one array.
struct AnyEncodable: Encodable, Sendable {
    let value: any Encodable & Sendable
    init(_ value: any Encodable & Sendable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
