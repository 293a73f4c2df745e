import Foundation
import Testing

/// The Kubernetes JSON schemas in `../shared/testdata/kubernetes` (kubernetes-validate 1.37):
/// checks that what the models encode uses only fields the API defines, with the required ones.
enum KubernetesSchema {
    /// `_definitions.json`, found by walking up from this file to a `shared/testdata` folder
    /// (immutable once loaded, hence safe to share).
    nonisolated(unsafe) static let definitions: [String: [String: Any]]? = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("shared/testdata/kubernetes/_definitions.json")
            if let data = FileManager.default.contents(atPath: candidate.path),
               let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let defs = root["$defs"] as? [String: [String: Any]] {
                return defs
            }
            directory.deleteLastPathComponent()
        }
        return nil
    }()

    static var available: Bool { definitions != nil }

    /// Problems with `json` as an instance of definition `name` (`io.k8s.api.coordination.v1.Lease`).
    static func problems(_ json: Data, as name: String) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: json) else { return ["not JSON"] }
        var found: [String] = []
        check(value, name, path: "", into: &found)
        return found
    }

    private static func check(_ value: Any, _ name: String, path: String, into found: inout [String]) {
        guard let definition = definitions?[name] else { found.append("\(path): no definition \(name)"); return }
        guard let object = value as? [String: Any] else {
            if definition["properties"] != nil { found.append("\(path): expected an object (\(name))") }
            return
        }
        let properties = definition["properties"] as? [String: [String: Any]] ?? [:]
        for key in (definition["required"] as? [String] ?? []) where object[key] == nil {
            found.append("\(path).\(key): required by \(name)")
        }
        for (key, member) in object {
            guard let property = properties[key] else { found.append("\(path).\(key): not a field of \(name)"); continue }
            if let ref = reference(property) {
                check(member, ref, path: "\(path).\(key)", into: &found)
            } else if let items = property["items"] as? [String: Any], let ref = reference(items), let array = member as? [Any] {
                for (index, item) in array.enumerated() { check(item, ref, path: "\(path).\(key)[\(index)]", into: &found) }
            }
        }
    }

    private static func reference(_ property: [String: Any]) -> String? {
        let ref = property["$ref"] as? String
            ?? (property["allOf"] as? [[String: Any]])?.first?["$ref"] as? String
        return ref?.components(separatedBy: "#/$defs/").last
    }

    /// JSON as the client encodes it.
    static func encoded(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
