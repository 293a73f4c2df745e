import CYAML
import KubeIPCore

/// A YAML document as a tree, read with libyaml: mappings, sequences and scalars, each with
/// the line it starts on. For files with structure (kubeconfig); ``YAMLDocument`` builds the
/// flat settings file on it.
///
/// - Scalars are kept as text, quotes removed; YAML's type guessing never changes a value
///   (`yes` stays `yes`). ``isNull`` tells YAML's null (nothing, `~`, `null` without quotes or tag).
/// - Aliases are not resolved: an alias is kept as ``Content/alias(_:)`` so that each reader can
///   refuse it where it stands, naming the key (and no alias can multiply the input).
/// - Input is bounded (``defaultMaxBytes``) and so is nesting (``defaultMaxDepth``).
/// - ``parse(_:path:setting:syntaxHint:maxBytes:maxDepth:)`` reads a stream of at most one
///   document; ``parseDocuments(_:path:setting:maxBytes:maxDepth:)`` reads every document of a
///   multi-document stream (manifests).
public struct YAMLNode: Sendable, Equatable {
    /// What a node holds.
    public enum Content: Sendable, Equatable {
        /// A scalar's text (empty for nothing at all).
        case scalar(String)
        /// The items of a sequence, in order.
        case sequence([YAMLNode])
        /// The pairs of a mapping in file order (duplicate keys are kept: the reader decides).
        case mapping([Pair])
        /// `*name`, unresolved.
        case alias(String)
    }

    /// One `key: value` of a mapping.
    public struct Pair: Sendable, Equatable {
        public var key: YAMLNode
        public var value: YAMLNode
        public init(key: YAMLNode, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    /// Largest input accepted by default (4 MiB: kubeconfigs embed certificates).
    public static let defaultMaxBytes = 4 << 20
    /// Deepest nesting accepted by default.
    public static let defaultMaxDepth = 64

    public var content: Content
    /// 1-based line where the node starts.
    public var line: Int
    /// A plain, untagged scalar written as nothing, `~`, `null`, `Null` or `NULL`.
    public var isNull: Bool
    /// A scalar written plain (unquoted) and untagged: the only kind a YAML reader may type as
    /// null, a boolean or a number; a quoted scalar is always text.
    public var isPlain: Bool

    public init(_ content: Content, line: Int, isNull: Bool = false, isPlain: Bool = false) {
        self.content = content
        self.line = line
        self.isNull = isNull
        self.isPlain = isPlain || isNull
    }

    /// The text of a scalar that is not null.
    public var text: String? {
        if case .scalar(let text) = content, !isNull { return text }
        return nil
    }

    /// The items of a sequence.
    public var items: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The pairs of a mapping.
    public var pairs: [Pair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// The value of the first pair whose key is the scalar `key`, in a mapping.
    public subscript(key: String) -> YAMLNode? {
        pairs?.first { pair in
            if case .scalar(let text) = pair.key.content { return text == key }
            return false
        }?.value
    }

    /// What kind of node this is, for messages: `a mapping`, `a list`, `a YAML alias`, `a value`.
    public var kindDescription: String {
        switch content {
        case .scalar: isNull ? "nothing" : "a value"
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .alias: "a YAML alias"
        }
    }

    /// Parses `text` (UTF-8 YAML): nil for a stream without a document (empty, or only comments).
    ///
    /// Errors are ``KubeIPError`` with code `invalidSetting`, `setting` as given, and a message
    /// starting `path:line:`; `syntaxHint` is appended to libyaml's syntax errors.
    public static func parse(_ text: String, path: String, setting: String? = nil, syntaxHint: String? = nil,
                             maxBytes: Int = defaultMaxBytes, maxDepth: Int = defaultMaxDepth) throws -> YAMLNode? {
        guard text.utf8.count <= maxBytes else {
            throw KubeIPError(.invalidSetting, "\(path) is larger than \(maxBytes) bytes; is it the right file?", setting: setting)
        }
        var builder = TreeBuilder(events: try events(of: text, path: path, setting: setting, hint: syntaxHint),
                                  path: path, setting: setting, maxDepth: maxDepth)
        return try builder.stream()
    }

    /// Parses every document of a multi-document stream (`---` between documents), in order;
    /// empty documents are left out. Errors as ``parse(_:path:setting:syntaxHint:maxBytes:maxDepth:)``.
    public static func parseDocuments(_ text: String, path: String, setting: String? = nil,
                                      maxBytes: Int = defaultMaxBytes, maxDepth: Int = defaultMaxDepth) throws -> [YAMLNode] {
        guard text.utf8.count <= maxBytes else {
            throw KubeIPError(.invalidSetting, "\(path) is larger than \(maxBytes) bytes; is it the right file?", setting: setting)
        }
        var builder = TreeBuilder(events: try events(of: text, path: path, setting: setting, hint: nil),
                                  path: path, setting: setting, maxDepth: maxDepth)
        return try builder.documents()
    }

    // MARK: libyaml events

    /// The part of a libyaml event that the tree builder needs, copied out of C memory.
    fileprivate struct Event {
        enum Kind { case streamStart, streamEnd, documentStart, documentEnd, alias, scalar,
                    sequenceStart, sequenceEnd, mappingStart, mappingEnd }
        var kind: Kind
        var line: Int
        /// A scalar's value or an alias's anchor.
        var text = ""
        /// A plain (unquoted), untagged scalar: the only kind YAML reads as null.
        var plainUntagged = false
    }

    private static func events(of text: String, path: String, setting: String?, hint: String?) throws -> [Event] {
        var bytes = Array(text.utf8)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw KubeIPError(.io, "\(path): cannot start the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }

        return try bytes.withUnsafeMutableBufferPointer { buffer -> [Event] in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var events: [Event] = []
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else {
                    throw syntaxError(parser, path: path, setting: setting, hint: hint)
                }
                defer { yaml_event_delete(&event) }
                guard let copied = copy(event) else { continue }
                events.append(copied)
                if copied.kind == .streamEnd { return events }
            }
        }
    }

    private static func copy(_ event: yaml_event_t) -> Event? {
        let line = Int(event.start_mark.line) + 1
        switch event.type {
        case YAML_STREAM_START_EVENT: return Event(kind: .streamStart, line: line)
        case YAML_STREAM_END_EVENT: return Event(kind: .streamEnd, line: line)
        case YAML_DOCUMENT_START_EVENT: return Event(kind: .documentStart, line: line)
        case YAML_DOCUMENT_END_EVENT: return Event(kind: .documentEnd, line: line)
        case YAML_ALIAS_EVENT:
            let anchor = event.data.alias.anchor.map { String(cString: $0) } ?? ""
            return Event(kind: .alias, line: line, text: anchor)
        case YAML_SEQUENCE_START_EVENT: return Event(kind: .sequenceStart, line: line)
        case YAML_SEQUENCE_END_EVENT: return Event(kind: .sequenceEnd, line: line)
        case YAML_MAPPING_START_EVENT: return Event(kind: .mappingStart, line: line)
        case YAML_MAPPING_END_EVENT: return Event(kind: .mappingEnd, line: line)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            var text = ""
            if let value = scalar.value {
                text = String(decoding: UnsafeBufferPointer(start: value, count: scalar.length), as: UTF8.self)
            }
            let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && scalar.tag == nil
            return Event(kind: .scalar, line: line, text: text, plainUntagged: plain)
        default: return nil
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t, path: String, setting: String?, hint: String?) -> KubeIPError {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        var message = "\(path):\(Int(parser.problem_mark.line) + 1): \(problem)"
        if let context = parser.context.map({ String(cString: $0) }) {
            message += " (\(context), line \(Int(parser.context_mark.line) + 1))"
        }
        if let hint { message += "; " + hint }
        return KubeIPError(.invalidSetting, message, setting: setting)
    }
}

/// Builds nodes from libyaml's event stream, bounded in depth.
private struct TreeBuilder {
    let events: [YAMLNode.Event]
    let path: String
    let setting: String?
    let maxDepth: Int
    var index = 0

    init(events: [YAMLNode.Event], path: String, setting: String?, maxDepth: Int) {
        self.events = events
        self.path = path
        self.setting = setting
        self.maxDepth = maxDepth
    }

    private mutating func next() -> YAMLNode.Event {
        defer { index += 1 }
        return events[min(index, events.count - 1)]
    }

    private func fail(_ line: Int, _ what: String) -> KubeIPError {
        KubeIPError(.invalidSetting, "\(path):\(line): \(what)", setting: setting)
    }

    mutating func documents() throws -> [YAMLNode] {
        _ = next()   // stream start
        var documents: [YAMLNode] = []
        while true {
            let start = next()
            if start.kind == .streamEnd { return documents }
            let root = try node(next(), depth: 0)
            _ = next()   // document end
            if !root.isNull { documents.append(root) }
        }
    }

    mutating func stream() throws -> YAMLNode? {
        _ = next()   // stream start
        let start = next()
        if start.kind == .streamEnd { return nil }
        let root = try node(next(), depth: 0)
        _ = next()   // document end
        let after = next()
        if after.kind != .streamEnd {
            throw fail(after.line, "expected one YAML document; remove the extra '---'")
        }
        return root
    }

    private mutating func node(_ event: YAMLNode.Event, depth: Int) throws -> YAMLNode {
        guard depth < maxDepth else { throw fail(event.line, "nested deeper than \(maxDepth) levels") }
        switch event.kind {
        case .scalar:
            let null = event.plainUntagged && ["", "~", "null", "Null", "NULL"].contains(event.text)
            return YAMLNode(.scalar(event.text), line: event.line, isNull: null, isPlain: event.plainUntagged)
        case .alias:
            return YAMLNode(.alias(event.text), line: event.line)
        case .sequenceStart:
            var items: [YAMLNode] = []
            while true {
                let item = next()
                if item.kind == .sequenceEnd { return YAMLNode(.sequence(items), line: event.line) }
                items.append(try node(item, depth: depth + 1))
            }
        case .mappingStart:
            var pairs: [YAMLNode.Pair] = []
            while true {
                let key = next()
                if key.kind == .mappingEnd { return YAMLNode(.mapping(pairs), line: event.line) }
                let keyNode = try node(key, depth: depth + 1)
                pairs.append(YAMLNode.Pair(key: keyNode, value: try node(next(), depth: depth + 1)))
            }
        default:
            throw fail(event.line, "unexpected YAML structure")
        }
    }
}
