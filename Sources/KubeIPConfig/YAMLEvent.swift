import CYAML
import KubeIPCore

/// One libyaml parser event, copied out of C memory: what a document builder needs.
public struct YAMLEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case streamStart, streamEnd, documentStart, documentEnd, alias, scalar,
             sequenceStart, sequenceEnd, mappingStart, mappingEnd
    }

    public var kind: Kind
    /// 1-based line where the event starts.
    public var line: Int
    /// A scalar's text.
    public var text = ""
    /// A plain (unquoted), untagged scalar: the only kind YAML reads as null (or a number).
    public var plainUntagged = false

    public init(kind: Kind, line: Int, text: String = "", plainUntagged: Bool = false) {
        self.kind = kind
        self.line = line
        self.text = text
        self.plainUntagged = plainUntagged
    }

    /// Whether a plain scalar's text is YAML's null.
    public static func isNull(_ text: String) -> Bool {
        ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// Every event of `text`, through the stream end. Throws ``KubeIPError`` (`invalidSetting`)
    /// naming `path` and the line of a syntax error, followed by `syntaxHint`.
    public static func read(_ text: String, path: String, syntaxHint: String = "") throws -> [YAMLEvent] {
        var bytes = Array(text.utf8)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw KubeIPError(.io, "\(path): cannot start the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }

        return try bytes.withUnsafeMutableBufferPointer { buffer -> [YAMLEvent] in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var events: [YAMLEvent] = []
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else {
                    throw syntaxError(parser, path: path, hint: syntaxHint)
                }
                defer { yaml_event_delete(&event) }
                guard let copied = copy(event) else { continue }
                events.append(copied)
                if copied.kind == .streamEnd { return events }
            }
        }
    }

    private static func copy(_ event: yaml_event_t) -> YAMLEvent? {
        let line = Int(event.start_mark.line) + 1
        switch event.type {
        case YAML_STREAM_START_EVENT: return YAMLEvent(kind: .streamStart, line: line)
        case YAML_STREAM_END_EVENT: return YAMLEvent(kind: .streamEnd, line: line)
        case YAML_DOCUMENT_START_EVENT: return YAMLEvent(kind: .documentStart, line: line)
        case YAML_DOCUMENT_END_EVENT: return YAMLEvent(kind: .documentEnd, line: line)
        case YAML_ALIAS_EVENT: return YAMLEvent(kind: .alias, line: line)
        case YAML_SEQUENCE_START_EVENT: return YAMLEvent(kind: .sequenceStart, line: line)
        case YAML_SEQUENCE_END_EVENT: return YAMLEvent(kind: .sequenceEnd, line: line)
        case YAML_MAPPING_START_EVENT: return YAMLEvent(kind: .mappingStart, line: line)
        case YAML_MAPPING_END_EVENT: return YAMLEvent(kind: .mappingEnd, line: line)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            var text = ""
            if let value = scalar.value {
                text = String(decoding: UnsafeBufferPointer(start: value, count: scalar.length), as: UTF8.self)
            }
            let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && scalar.tag == nil
            return YAMLEvent(kind: .scalar, line: line, text: text, plainUntagged: plain)
        default: return nil
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t, path: String, hint: String) -> KubeIPError {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        var message = "\(path):\(Int(parser.problem_mark.line) + 1): \(problem)"
        if let context = parser.context.map({ String(cString: $0) }) {
            message += " (\(context), line \(Int(parser.context_mark.line) + 1))"
        }
        return KubeIPError(.invalidSetting, message + hint)
    }
}
