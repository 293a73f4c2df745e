import KubeIPCore

/// A kubeip settings file read with libyaml: one flat mapping from setting keys to scalars
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
        self.entries = try YAMLDocument.build(from: try YAMLEvent.read(text, path: path,
                                                                              syntaxHint: "; expected one 'key: value' per line"), path: path)
    }

    // MARK: Building the mapping

    private static func build(from events: [YAMLEvent], path: String) throws -> [Entry] {
        func fail(_ line: Int, _ what: String, setting: String? = nil) -> KubeIPError {
            KubeIPError(.invalidSetting, "\(path):\(line): \(what)", setting: setting)
        }
        var index = 0
        func next() -> YAMLEvent { defer { index += 1 }; return events[min(index, events.count - 1)] }

        func value(after key: YAMLEvent) throws -> Value {
            let event = next()
            switch event.kind {
            case .scalar:
                return event.plainUntagged && isNull(event.text) ? .null : .scalar(event.text)
            case .sequenceStart:
                var items: [String] = []
                while true {
                    let item = next()
                    if item.kind == .sequenceEnd { return .sequence(items) }
                    guard item.kind == .scalar else {
                        throw fail(item.line, "a list under '\(key.text)' may hold only plain values", setting: key.text)
                    }
                    if item.plainUntagged && isNull(item.text) {
                        throw fail(item.line, "the list under '\(key.text)' has an empty item", setting: key.text)
                    }
                    items.append(item.text)
                }
            case .mappingStart:
                throw fail(event.line, "'\(key.text)' holds a nested mapping; settings are flat 'key: value' lines", setting: key.text)
            case .alias:
                throw fail(event.line, "'\(key.text)' uses a YAML alias; write the value out", setting: key.text)
            default:
                throw fail(event.line, "'\(key.text)' has no readable value", setting: key.text)
            }
        }

        _ = next()   // stream start
        var start = next()
        if start.kind == .streamEnd { return [] }
        // document start
        start = next()
        var entries: [Entry] = []
        switch start.kind {
        case .scalar where start.plainUntagged && isNull(start.text):
            break   // `---` with nothing after it
        case .mappingStart:
            while true {
                let key = next()
                if key.kind == .mappingEnd { break }
                guard key.kind == .scalar else {
                    throw fail(key.line, "a setting name must be a plain word, not a list or a mapping")
                }
                if let earlier = entries.first(where: { $0.key == key.text }) {
                    throw fail(key.line, "'\(key.text)' is set twice (first on line \(earlier.line))", setting: key.text)
                }
                entries.append(Entry(key: key.text, value: try value(after: key), line: key.line))
            }
        default:
            throw fail(start.line, "expected 'key: value' settings at the top level of the file")
        }
        let end = next()   // document end
        let after = next()
        if end.kind != .documentEnd || after.kind != .streamEnd {
            throw fail(after.line, "a settings file holds one YAML document; remove the extra '---'")
        }
        return entries
    }

    private static func isNull(_ text: String) -> Bool { YAMLEvent.isNull(text) }
}
