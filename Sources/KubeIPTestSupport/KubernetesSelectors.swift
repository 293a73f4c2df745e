import KubeIPSimulator

/// A label selector as `k8s.io/apimachinery/pkg/labels.Parse` reads it: comma-separated
/// requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` and `!k`.
struct LabelSelector {
    enum Requirement {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    var requirements: [Requirement] = []

    init(_ text: String) throws(KubernetesStatusError) {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        for raw in parts {
            let part = raw.trimmingSpacesAround
            if part.isEmpty { continue }
            requirements.append(try Self.requirement(part, in: text))
        }
    }

    private static func requirement(_ part: String, in text: String) throws(KubernetesStatusError) -> Requirement {
        func fail(_ why: String) -> KubernetesStatusError {
            .badRequest("unable to parse requirement: \(why)")
        }
        func checkKey(_ key: String) throws(KubernetesStatusError) -> String {
            let problems = KubernetesNames.qualifiedName(key)
            if let first = problems.first { throw fail("<nil>: Invalid value: \(goQuote(key)): \(first)") }
            return key
        }
        func set(_ body: Substring) -> Set<String> {
            Set(body.split(separator: ",").map { String($0).trimmingSpacesAround })
        }
        if part.hasPrefix("!") { return .doesNotExist(try checkKey(String(part.dropFirst()).trimmingSpacesAround)) }
        for (op, make) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] {
            if let range = part.firstRange(of: op) {
                let key = String(part[..<range.lowerBound]).trimmingSpacesAround
                let value = String(part[range.upperBound...]).trimmingSpacesAround
                return make(try checkKey(key), value)
            }
        }
        let words = part.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2, let open = words[1].firstIndex(of: "("), words[1].hasSuffix(")") {
            let op = words[1][..<open].trimmingCharacters(" ")
            let body = words[1][words[1].index(after: open)..<words[1].index(before: words[1].endIndex)]
            switch op {
            case "in": return .isIn(try checkKey(words[0]), set(body))
            case "notin": return .notIn(try checkKey(words[0]), set(body))
            default: throw fail("found '\(op)', expected: in, notin, =, ==, !=, gt, lt")
            }
        }
        if words.count == 1 { return .exists(try checkKey(part)) }
        throw fail("found '\(words[1])', expected: ',' or 'end of string'")
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .isIn(let key, let values): return labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): return !(labels[key].map(values.contains) ?? false)
            case .exists(let key): return labels[key] != nil
            case .doesNotExist(let key): return labels[key] == nil
            }
        }
    }
}

/// A field selector (`metadata.name=x,metadata.namespace!=y`) over the fields a resource's
/// registry supports (`GetAttrs`/`ToSelectableFields`).
struct FieldSelector {
    var terms: [(field: String, value: String, equal: Bool)] = []

    init(_ text: String, type: KubernetesResourceType) throws(KubernetesStatusError) {
        for raw in text.split(separator: ",") {
            let part = String(raw).trimmingSpacesAround
            let term: (String, String, Bool)
            if let range = part.firstRange(of: "!=") {
                term = (String(part[..<range.lowerBound]), String(part[range.upperBound...]), false)
            } else if let range = part.firstRange(of: "==") ?? part.firstRange(of: "=") {
                term = (String(part[..<range.lowerBound]), String(part[range.upperBound...]), true)
            } else {
                throw .badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            guard Self.supported(type).contains(term.0) else {
                throw .badRequest("field label not supported: \(term.0)")
            }
            terms.append(term)
        }
    }

    static func supported(_ type: KubernetesResourceType) -> [String] {
        var fields = ["metadata.name", "metadata.namespace"]
        switch type.resource {
        case "nodes": fields.append("spec.unschedulable")
        case "events":
            fields += ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                       "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                       "reason", "reportingComponent", "source", "type"]
            if type.group == "events.k8s.io" {
                fields += ["regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "reportingController"]
            }
        case "namespaces": fields.append("status.phase")
        default: break
        }
        return fields
    }

    /// `object` in its core (stored) form.
    func matches(_ object: JSONValue) -> Bool {
        terms.allSatisfy { term in
            var path = term.field.split(separator: ".").map(String.init)
            if path.first == "regarding" { path[0] = "involvedObject" }
            if path == ["reportingController"] { path = ["reportingComponent"] }
            if path == ["source"] { path = ["source", "component"] }
            let value: String
            switch object[path: path] {
            case .bool(let flag): value = flag ? "true" : "false"
            case .string(let text): value = text
            case .number(let number): value = String(Int(number))
            default: value = path == ["spec", "unschedulable"] ? "false" : ""
            }
            return (value == term.value) == term.equal
        }
    }
}

private extension Substring {
    func trimmingCharacters(_ character: Character) -> String {
        var slice = self
        while slice.first == character { slice.removeFirst() }
        while slice.last == character { slice.removeLast() }
        return String(slice)
    }
}
