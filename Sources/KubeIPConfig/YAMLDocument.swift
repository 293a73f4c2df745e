import KubeIPCore

/// A kubeip settings file read with libyaml (through ``YAMLNode``): one flat mapping from setting keys to scalars
/// (or to sequences of scalars), each remembered with the line it was written on.
///
/// Only what a settings file needs is accepted: a single document whose root is a mapping
/// (or nothing at all), plain keys, and values that are scalars or flat lists of scalars.
/// Nested mappings, lists of lists, aliases, duplicate keys and extra documents are errors
/// naming the file and the line. Scalars are kept as text; interpreting `yes` or `5m` is the
/// loader's job, so YAML's own type guessing never changes a value.
public struct YAMLDocument: Sendable, Equatable {
    /// A value as written in the file.
    public enum Value: Sendable, Equatable {
        /// Nothing, `~` or `null` written without quotes: the key is present but unset.
        case null
        /// A single scalar, quotes removed.
        case scalar(String)
        /// A flat list of scalars (`[a, b]` or one `- item` per line).
        case sequence([String])
    }

    /// One `key: value` line.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Value
        /// 1-based line of the key.
        public var line: Int

        public init(key: String, value: Value, line: Int) {
            self.key = key
            self.value = value
            self.line = line
        }
    }

    /// The file the text came from, used in every error message.
    public let path: String
    /// The entries in file order.
    public let entries: [Entry]

    /// The entry for `key`, if the file sets it.
    public subscript(key: String) -> Entry? { entries.first { $0.key == key } }

    /// Parses `text` (UTF-8 YAML). An empty file, or one holding only comments, is an empty mapping.
    /// Throws ``KubeIPError`` with code `invalidSetting` naming `path` and the line at fault.
    public init(parsing text: String, path: String) throws {
        self.path = path
        let root = try YAMLNode.parse(text, path: path, syntaxHint: "expected one 'key: value' per line")
        self.entries = try YAMLDocument.entries(of: root, path: path)
    }

    private static func entries(of root: YAMLNode?, path: String) throws -> [Entry] {
        func fail(_ line: Int, _ what: String, setting: String? = nil) -> KubeIPError {
            KubeIPError(.invalidSetting, "\(path):\(line): \(what)", setting: setting)
        }
        guard let root, !root.isNull else { return [] }   // nothing, or `---` with nothing after it
        guard let pairs = root.pairs else {
            throw fail(root.line, "expected 'key: value' settings at the top level of the file")
        }
        var entries: [Entry] = []
        for pair in pairs {
            guard case .scalar(let key) = pair.key.content else {
                throw fail(pair.key.line, "a setting name must be a plain word, not a list or a mapping")
            }
            if let earlier = entries.first(where: { $0.key == key }) {
                throw fail(pair.key.line, "'\(key)' is set twice (first on line \(earlier.line))", setting: key)
            }
            let node = pair.value
            let value: Value
            switch node.content {
            case .scalar(let text):
                value = node.isNull ? .null : .scalar(text)
            case .sequence(let items):
                value = .sequence(try items.map { item in
                    guard case .scalar(let text) = item.content else {
                        throw fail(item.line, "a list under '\(key)' may hold only plain values", setting: key)
                    }
                    if item.isNull { throw fail(item.line, "the list under '\(key)' has an empty item", setting: key) }
                    return text
                })
            case .mapping:
                throw fail(node.line, "'\(key)' holds a nested mapping; settings are flat 'key: value' lines", setting: key)
            case .alias:
                throw fail(node.line, "'\(key)' uses a YAML alias; write the value out", setting: key)
            }
            entries.append(Entry(key: key, value: value, line: pair.key.line))
        }
        return entries
    }
}
