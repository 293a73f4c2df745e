import KubeIPCore

/// The `filter` setting for AWS: describe-addresses shorthand.
///
/// `Name=tag:env,Values=prod,dev;Name=domain,Values=vpc` — filters are separated by `;` and
/// must all match (AND); the values of one filter are separated by `,` and any may match (OR).
/// Whitespace around names, values and separators is ignored; a value containing `,` or `;`
/// can be quoted (`Values="a,b"`). The empty string selects every address.
public struct EC2Filter: Sendable, Equatable, CustomStringConvertible {
    /// One `Name=...,Values=...` filter.
    public struct Clause: Sendable, Equatable {
        public var name: String
        public var values: [String]

        public init(name: String, values: [String]) {
            self.name = name
            self.values = values
        }
    }

    /// The filters, AND-ed.
    public var clauses: [Clause]

    public init(clauses: [Clause] = []) { self.clauses = clauses }

    /// Whether the filter selects every address.
    public var isEmpty: Bool { clauses.isEmpty }

    /// DescribeAddresses' filter names (besides `tag:<key>`), as its API reference lists them.
    ///
    /// `domain` (`vpc` or `standard`) is no longer in that list since EC2-Classic was retired, but
    /// EC2 still accepts it and kubeip adds `domain=vpc` itself, so it stays. `public-ipv4-pool`
    /// is a field of the answer, not a documented filter, so it is refused here, before any call.
    public static let knownNames: [String] = [
        "allocation-id", "association-id", "domain", "instance-id", "network-border-group", "network-interface-id",
        "network-interface-owner-id", "private-ip-address", "public-ip", "tag-key",
    ]

    static let expectedForm = "expected Name=<filter>,Values=<v1>[,<v2>...] separated by ';', e.g. Name=tag:env,Values=prod"

    /// Parses the shorthand; throws ``KubeIPError`` `.invalidSetting` naming `filter` when malformed.
    public static func parse(_ text: String) throws -> EC2Filter {
        let malformed = { (why: String) in
            KubeIPError.invalid("filter", "\(expectedForm); got '\(text)'\(why.isEmpty ? "" : " (\(why))")")
        }
        var clauses: [Clause] = []
        for segment in try split(text, on: ";", onError: malformed) {
            if segment.trimmedWhitespace.isEmpty { continue }
            var name: String?
            var values: [String]?
            var currentIsValues = false
            for rawItem in try split(segment, on: ",", onError: malformed) {
                let item = rawItem.trimmedWhitespace
                let (key, rest) = keyAndRest(item)
                switch key {
                case "name":
                    guard name == nil else { throw malformed("two Names in one filter") }
                    let value = unquote(rest)
                    guard !value.isEmpty else { throw malformed("empty Name") }
                    name = value
                    currentIsValues = false
                case "values":
                    guard values == nil else { throw malformed("two Values in one filter") }
                    values = [unquote(rest)]
                    currentIsValues = true
                default:
                    guard currentIsValues, values != nil else {
                        throw malformed("'\(item)' is neither Name=... nor Values=...")
                    }
                    values!.append(unquote(item))
                }
            }
            guard let name else { throw malformed("a filter without Name") }
            guard let values, !values.contains(where: \.isEmpty) else { throw malformed("filter \(name) has an empty value") }
            try validate(name: name, text: text)
            clauses.append(Clause(name: name, values: values))
        }
        return EC2Filter(clauses: clauses)
    }

    private static func validate(name: String, text: String) throws {
        if name.hasPrefix("tag:") {
            guard name.count > 4 else {
                throw KubeIPError.invalid("filter", "'tag:' needs a tag key, e.g. Name=tag:env,Values=prod; got '\(text)'")
            }
            return
        }
        guard knownNames.contains(name) else {
            throw KubeIPError.invalid("filter", "unknown filter name '\(name)': describe-addresses accepts tag:<key>, \(knownNames.joined(separator: ", ")); got '\(text)'")
        }
    }

    /// `Name = x` → ("name", "x"); anything else → ("", item).
    private static func keyAndRest(_ item: String) -> (String, String) {
        guard let equals = item.firstIndex(of: "=") else { return ("", item) }
        let key = item[..<equals].trimmedWhitespace.lowercased()
        guard key == "name" || key == "values" else { return ("", item) }
        return (key, item[item.index(after: equals)...].trimmedWhitespace)
    }

    private static func unquote(_ value: String) -> String {
        let trimmed = value.trimmedWhitespace
        if trimmed.count >= 2, let first = trimmed.first, first == "\"" || first == "'", trimmed.last == first {
            return String(trimmed.dropFirst().dropLast())
        }
        return trimmed
    }

    /// Splits on `separator` outside single or double quotes.
    private static func split(_ text: String, on separator: Character,
                              onError: (String) -> KubeIPError) throws -> [String] {
        guard let parts = QuotedText.split(text, on: separator) else { throw onError("unbalanced quote") }
        return parts
    }

    /// Whether a clause for `name` exists.
    public func contains(name: String) -> Bool { clauses.contains { $0.name == name } }

    /// The Query API parameters: `Filter.N.Name`, `Filter.N.Value.M` (1-based).
    public func queryParameters() -> [(String, String)] {
        var result: [(String, String)] = []
        for (n, clause) in clauses.enumerated() {
            result.append(("Filter.\(n + 1).Name", clause.name))
            for (m, value) in clause.values.enumerated() {
                result.append(("Filter.\(n + 1).Value.\(m + 1)", value))
            }
        }
        return result
    }

    /// Back to shorthand (values quoted when they need it).
    public var description: String {
        clauses.map { clause in
            let values = clause.values.map { value in
                value.contains(",") || value.contains(";") ? "\"\(value)\"" : value
            }
            return "Name=\(clause.name),Values=\(values.joined(separator: ","))"
        }.joined(separator: ";")
    }
}
