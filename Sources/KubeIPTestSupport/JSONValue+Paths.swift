extension JSONValue {
    /// The value at a path of object keys; nil when any step is missing or not an object.
    public subscript(path path: [String]) -> JSONValue? {
        var current: JSONValue? = self
        for key in path { current = current?[key] }
        return current
    }

    /// Sets (or, with nil, removes) the value at a path of object keys, creating objects on the way.
    mutating func set(_ path: [String], _ value: JSONValue?) {
        guard let first = path.first else {
            self = value ?? .null
            return
        }
        var members = objectValue ?? [:]
        if path.count == 1 {
            members[first] = value
        } else {
            var child = members[first] ?? .object([:])
            if child.objectValue == nil { child = .object([:]) }
            child.set(Array(path.dropFirst()), value)
            members[first] = child
        }
        self = .object(members)
    }

    /// The string at a path, or "" when absent or not a string.
    func string(at path: [String]) -> String { self[path: path]?.stringValue ?? "" }

    /// An object's members as strings (labels, annotations); nil when not an object of strings.
    var stringMap: [String: String]? {
        guard let members = objectValue else { return nil }
        var out: [String: String] = [:]
        for (key, value) in members {
            guard let text = value.stringValue else { return nil }
            out[key] = text
        }
        return out
    }

    /// Whether this is JSON `null`.
    var isNull: Bool { self == .null }
}
