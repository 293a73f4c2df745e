import KubeIPConfig
import KubeIPCore
import KubeIPSimulator

/// Kubernetes manifests (YAML, one or more `---` documents, or JSON) read into JSON values.
/// Plain scalars are typed as Kubernetes' YAML reader (sigs.k8s.io/yaml) types them: null,
/// booleans, integers and floats; quoted scalars stay strings. Aliases are refused.
public enum YAMLTree {
    /// Every non-empty document of `text`.
    public static func documents(_ text: String, path: String = "<manifest>") throws -> [JSONValue] {
        let events = try YAMLEvent.read(text, path: path)
        var index = 0
        func next() -> YAMLEvent {
            defer { index += 1 }
            return events[min(index, events.count - 1)]
        }
        func fail(_ event: YAMLEvent, _ what: String) -> KubeIPError {
            KubeIPError(.invalidSetting, "\(path):\(event.line): \(what)")
        }
        func node(_ event: YAMLEvent) throws -> JSONValue {
            switch event.kind {
            case .scalar:
                return scalar(event)
            case .sequenceStart:
                var items: [JSONValue] = []
                while true {
                    let item = next()
                    if item.kind == .sequenceEnd { return .array(items) }
                    items.append(try node(item))
                }
            case .mappingStart:
                var members: [String: JSONValue] = [:]
                while true {
                    let key = next()
                    if key.kind == .mappingEnd { return .object(members) }
                    guard key.kind == .scalar else { throw fail(key, "a mapping key must be a scalar") }
                    if members[key.text] != nil { throw fail(key, "key \"\(key.text)\" appears twice") }
                    members[key.text] = try node(next())
                }
            case .alias:
                throw fail(event, "YAML aliases are not supported")
            default:
                throw fail(event, "unexpected YAML structure")
            }
        }
        var documents: [JSONValue] = []
        while index < events.count {
            let event = next()
            switch event.kind {
            case .streamEnd:
                return documents
            case .streamStart, .documentEnd:
                continue
            case .documentStart:
                let root = try node(next())
                if root != .null { documents.append(root) }
            default:
                throw fail(event, "unexpected YAML structure")
            }
        }
        return documents
    }

    /// The one document of `text`; throws when there is not exactly one.
    public static func document(_ text: String, path: String = "<manifest>") throws -> JSONValue {
        let all = try documents(text, path: path)
        guard all.count == 1 else { throw KubeIPError(.invalidSetting, "\(path): expected one document, found \(all.count)") }
        return all[0]
    }

    private static func scalar(_ event: YAMLEvent) -> JSONValue {
        guard event.plainUntagged else { return .string(event.text) }
        let text = event.text
        if YAMLEvent.isNull(text) { return .null }
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        let numeric = text.first.map { $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." } ?? false
        if numeric, let integer = Int(text) { return .number(Double(integer)) }
        if numeric, text.contains(where: \.isNumber), let value = Double(text), value.isFinite { return .number(value) }
        return .string(text)
    }
}
