import KubeIPSimulator

/// The three patch formats the apiserver applies to JSON objects.
enum KubernetesPatch {
    /// A patch that cannot be applied, with the library's own words (evanphx/json-patch v4,
    /// apimachinery strategicpatch).
    struct Failure: Error {
        var message: String
        /// Malformed patch documents are a 400; patches that do not apply are a 422.
        var isMalformed: Bool
    }

    // MARK: RFC 6902 JSON Patch

    /// Applies a JSON Patch document. Semantics and messages follow gopkg.in/evanphx/json-patch.v4,
    /// which the apiserver uses (a `test` on a missing path passes when the value is null).
    static func applyJSONPatch(_ patch: JSONValue, to document: JSONValue) throws(Failure) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw Failure(message: "json: cannot unmarshal \(patch.objectValue != nil ? "object" : "value") into Go value of type jsonpatch.Patch",
                          isMalformed: true)
        }
        var doc = document
        for operation in operations {
            guard let op = operation["op"]?.stringValue else {
                throw Failure(message: "Unexpected kind: unknown", isMalformed: false)
            }
            guard let pathText = operation["path"]?.stringValue else {
                throw Failure(message: "\(op) operation failed to decode path: operation missing path", isMalformed: false)
            }
            let path = try pointer(pathText)
            switch op {
            case "add":
                guard let value = operation["value"] else { throw Failure(message: "add operation failed to decode value", isMalformed: false) }
                doc = try add(value, at: path, in: doc, text: pathText)
            case "remove":
                doc = try remove(at: path, in: doc, text: pathText).0
            case "replace":
                guard let value = operation["value"] else { throw Failure(message: "replace operation failed to decode value", isMalformed: false) }
                guard get(path, in: doc) != nil else {
                    throw Failure(message: "replace operation does not apply: doc is missing key: \(pathText): missing value", isMalformed: false)
                }
                doc = try remove(at: path, in: doc, text: pathText).0
                doc = try add(value, at: path, in: doc, text: pathText)
            case "move", "copy":
                guard let fromText = operation["from"]?.stringValue else {
                    throw Failure(message: "\(op) operation failed to decode from", isMalformed: false)
                }
                let from = try pointer(fromText)
                guard let value = get(from, in: doc) else {
                    throw Failure(message: "\(op) operation does not apply: doc is missing from path: \(fromText): missing value", isMalformed: false)
                }
                if op == "move" { doc = try remove(at: from, in: doc, text: fromText).0 }
                doc = try add(value, at: path, in: doc, text: pathText)
            case "test":
                let expected = operation["value"] ?? .null
                let actual = get(path, in: doc)
                if actual == nil && expected == .null { continue }
                guard actual == expected else {
                    throw Failure(message: "testing value \(pathText) failed: test failed", isMalformed: false)
                }
            default:
                throw Failure(message: "Unexpected kind: \(op)", isMalformed: false)
            }
        }
        return doc
    }

    private static func pointer(_ text: String) throws(Failure) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw Failure(message: "JSON pointer must be empty or start with a \"/", isMalformed: false) }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    private static func get(_ path: [String], in doc: JSONValue) -> JSONValue? {
        var current = doc
        for token in path {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    private static func add(_ value: JSONValue, at path: [String], in doc: JSONValue, text: String) throws(Failure) -> JSONValue {
        guard let token = path.last else { return value }
        guard var parent = get(Array(path.dropLast()), in: doc) else {
            throw Failure(message: "add operation does not apply: doc is missing path: \(goQuote(text)): missing value", isMalformed: false)
        }
        switch parent {
        case .object(var members):
            members[token] = value
            parent = .object(members)
        case .array(var items):
            if token == "-" {
                items.append(value)
            } else {
                guard let index = Int(token), (0...items.count).contains(index) else {
                    throw Failure(message: "Unable to access invalid index: \(token): invalid index referenced", isMalformed: false)
                }
                items.insert(value, at: index)
            }
            parent = .array(items)
        default:
            throw Failure(message: "add operation does not apply: doc is missing path: \(goQuote(text)): missing value", isMalformed: false)
        }
        return replacing(Array(path.dropLast()), in: doc, with: parent)
    }

    private static func remove(at path: [String], in doc: JSONValue, text: String) throws(Failure) -> (JSONValue, JSONValue) {
        guard let token = path.last, var parent = get(Array(path.dropLast()), in: doc) else {
            throw Failure(message: "remove operation does not apply: doc is missing path: \(goQuote(text)): missing value", isMalformed: false)
        }
        let removed: JSONValue
        switch parent {
        case .object(var members):
            guard let value = members.removeValue(forKey: token) else {
                throw Failure(message: "remove operation does not apply: doc is missing path: \(goQuote(text)): missing value", isMalformed: false)
            }
            removed = value
            parent = .object(members)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else {
                throw Failure(message: "Unable to access invalid index: \(token): invalid index referenced", isMalformed: false)
            }
            removed = items.remove(at: index)
            parent = .array(items)
        default:
            throw Failure(message: "remove operation does not apply: doc is missing path: \(goQuote(text)): missing value", isMalformed: false)
        }
        return (replacing(Array(path.dropLast()), in: doc, with: parent), removed)
    }

    private static func replacing(_ path: [String], in doc: JSONValue, with value: JSONValue) -> JSONValue {
        guard let token = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch doc {
        case .object(var members):
            members[token] = replacing(rest, in: members[token] ?? .null, with: value)
            return .object(members)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else { return doc }
            items[index] = replacing(rest, in: items[index], with: value)
            return .array(items)
        default:
            return doc
        }
    }

    // MARK: RFC 7386 JSON Merge Patch

    /// Applies a JSON Merge Patch: objects merge recursively, null removes, anything else replaces.
    static func applyMergePatch(_ patch: JSONValue, to document: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var members = document.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                members[key] = nil
            } else {
                members[key] = applyMergePatch(value, to: members[key] ?? .null)
            }
        }
        return .object(members)
    }

    // MARK: Strategic merge patch

    /// How one list merges in a strategic merge patch (the Go types' `patchStrategy` and
    /// `patchMergeKey` tags); lists not named are replaced whole.
    enum ListStrategy {
        case mergeByKey(String)
        case mergePrimitives
    }

    /// The list strategies of a resource type, by path (`[]` stands for "each element").
    static func listStrategies(for type: KubernetesResourceType) -> [[String]: ListStrategy] {
        var strategies: [[String]: ListStrategy] = [
            ["metadata", "finalizers"]: .mergePrimitives,
            ["metadata", "ownerReferences"]: .mergeByKey("uid"),
        ]
        if type == .nodes {
            strategies[["spec", "podCIDRs"]] = .mergePrimitives
            strategies[["status", "addresses"]] = .mergeByKey("type")
            strategies[["status", "conditions"]] = .mergeByKey("type")
        }
        return strategies
    }

    /// Applies a strategic merge patch (apimachinery's `StrategicMergePatch`): maps merge,
    /// null removes, lists merge by their key where the type declares one and are replaced
    /// otherwise; the `$patch` (replace, delete, merge), `$retainKeys`,
    /// `$deleteFromPrimitiveList/<list>` and `$setElementOrder/<list>` directives are honoured.
    static func applyStrategicMergePatch(_ patch: JSONValue, to document: JSONValue,
                                         type: KubernetesResourceType) throws(Failure) -> JSONValue {
        guard patch.objectValue != nil else {
            throw Failure(message: "unable to find api field in struct \(type.kind) for the json field \"\"", isMalformed: true)
        }
        return try mergeMap(patch, into: document, path: [], strategies: listStrategies(for: type))
    }

    private static func mergeMap(_ patch: JSONValue, into document: JSONValue, path: [String],
                                 strategies: [[String]: ListStrategy]) throws(Failure) -> JSONValue {
        guard case .object(var patchMembers) = patch else { return patch }
        if let directive = patchMembers.removeValue(forKey: "$patch")?.stringValue {
            switch directive {
            case "replace": return .object(patchMembers)
            case "delete": return .null
            case "merge": break
            default: throw Failure(message: "Unknown patch type: \(directive) in map: \(patch.serialized)", isMalformed: true)
            }
        }
        var members = document.objectValue ?? [:]
        if let retain = patchMembers.removeValue(forKey: "$retainKeys")?.arrayValue {
            let keep = Set(retain.compactMap(\.stringValue))
            members = members.filter { keep.contains($0.key) }
        }
        // Directives about lists first, then the members.
        for key in patchMembers.keys.sorted() where key.hasPrefix("$deleteFromPrimitiveList/") {
            let list = String(key.dropFirst("$deleteFromPrimitiveList/".count))
            let remove = patchMembers.removeValue(forKey: key)?.arrayValue ?? []
            if let items = members[list]?.arrayValue { members[list] = .array(items.filter { !remove.contains($0) }) }
        }
        var orders: [String: [JSONValue]] = [:]
        for key in patchMembers.keys where key.hasPrefix("$setElementOrder/") {
            orders[String(key.dropFirst("$setElementOrder/".count))] = patchMembers.removeValue(forKey: key)?.arrayValue
        }
        for (key, value) in patchMembers {
            let childPath = path + [key]
            if value == .null {
                members[key] = nil
                continue
            }
            switch value {
            case .object:
                members[key] = try mergeMap(value, into: members[key] ?? .null, path: childPath, strategies: strategies)
                if members[key] == .null { members[key] = nil }
            case .array(let items):
                members[key] = try mergeList(items, into: members[key]?.arrayValue ?? [], path: childPath,
                                             strategies: strategies)
            default:
                members[key] = value
            }
        }
        for (key, order) in orders {
            guard let items = members[key]?.arrayValue else { continue }
            members[key] = .array(reorder(items, by: order, strategy: strategies[path + [key]]))
        }
        return .object(members)
    }

    private static func mergeList(_ patch: [JSONValue], into current: [JSONValue], path: [String],
                                  strategies: [[String]: ListStrategy]) throws(Failure) -> JSONValue {
        // A `{"$patch": "replace"}` element replaces the whole list with the other elements.
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patch.filter { $0["$patch"] == nil })
        }
        switch strategies[path] {
        case nil:
            return .array(patch)
        case .mergePrimitives:
            var merged = current
            for item in patch where !merged.contains(item) { merged.append(item) }
            return .array(merged)
        case .mergeByKey(let key):
            var merged = current
            for item in patch {
                guard let keyValue = item[key] else {
                    throw Failure(message: "map: \(item.serialized) does not contain declared merge key: \(key)", isMalformed: false)
                }
                let index = merged.firstIndex { $0[key] == keyValue }
                if item["$patch"]?.stringValue == "delete" {
                    if let index { merged.remove(at: index) }
                    continue
                }
                if let index {
                    merged[index] = try mergeMap(item, into: merged[index], path: path, strategies: strategies)
                } else {
                    var fresh = item.objectValue ?? [:]
                    fresh["$patch"] = nil
                    merged.append(.object(fresh))
                }
            }
            return .array(merged)
        }
    }

    private static func reorder(_ items: [JSONValue], by order: [JSONValue], strategy: ListStrategy?) -> [JSONValue] {
        func identity(_ item: JSONValue) -> JSONValue {
            if case .mergeByKey(let key) = strategy { return item[key] ?? item }
            return item
        }
        let wanted = order.map { identity($0) }
        let ordered = wanted.compactMap { want in items.first { identity($0) == want } }
        return ordered + items.filter { !wanted.contains(identity($0)) }
    }
}
