import KubeIPConfig
import KubeIPCore
import KubeIPSimulator

/// Kubernetes manifests (YAML, one or more `---` documents, or JSON) read into JSON values.
/// Plain scalars are typed as Kubernetes' YAML reader (sigs.k8s.io/yaml) types them: null,
/// booleans, integers and floats; quoted scalars stay strings. Aliases are refused.
public enum YAMLTree {
    /// Every non-empty document of `text`.
    public static func documents(_ text: String, path: String = "<manifest>") throws -> [JSONValue] {
        try YAMLNode.parseDocuments(text, path: path).map { try value($0, path: path) }
    }

    /// The one document of `text`; throws when there is not exactly one.
    public static func document(_ text: String, path: String = "<manifest>") throws -> JSONValue {
        let all = try documents(text, path: path)
        guard all.count == 1 else { throw KubeIPError(.invalidSetting, "\(path): expected one document, found \(all.count)") }
        return all[0]
    }

    private static func value(_ node: YAMLNode, path: String) throws -> JSONValue {
        func fail(_ what: String) -> KubeIPError { KubeIPError(.invalidSetting, "\(path):\(node.line): \(what)") }
        switch node.content {
        case .scalar(let text):
            return scalar(text, plain: node.isPlain, null: node.isNull)
        case .sequence(let items):
            return .array(try items.map { try value($0, path: path) })
        case .mapping(let pairs):
            var members: [String: JSONValue] = [:]
            for pair in pairs {
                guard case .scalar(let key) = pair.key.content else {
                    throw KubeIPError(.invalidSetting, "\(path):\(pair.key.line): a mapping key must be a scalar")
                }
                if members[key] != nil {
                    throw KubeIPError(.invalidSetting, "\(path):\(pair.key.line): key \"\(key)\" appears twice")
                }
                members[key] = try value(pair.value, path: path)
            }
            return .object(members)
        case .alias:
            throw fail("YAML aliases are not supported")
        }
    }

    private static func scalar(_ text: String, plain: Bool, null: Bool) -> JSONValue {
        guard plain else { return .string(text) }
        if null { return .null }
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
