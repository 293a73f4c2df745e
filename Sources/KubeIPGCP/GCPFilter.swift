import KubeIPCore

/// The `filter` setting for GCP: Compute Engine list-filter clauses separated by `;`, all of
/// which must match (`labels.env=prod;labels.app=edge`).
///
/// Each clause is passed to the API verbatim, wrapped in parentheses, and AND-ed with the
/// clauses kubeip adds for the family: `(addressType = "EXTERNAL") AND (ipVersion != "IPV6")`
/// for IPv4 (an address reserved without an IP version reports none or `UNSPECIFIED_VERSION`,
/// and `ipVersion = "IPV4"` would not match it), `(addressType = "EXTERNAL") AND (ipVersion = "IPV6")`
/// for IPv6 (ranges for a load balancer, `ipv6EndpointType` `NETLB`, are left out of the answer
/// by the pool, not by the filter).
/// Status is deliberately not filtered: kubeip must see its own IN_USE addresses to adopt
/// them after a restart.
///
/// The API has two filter dialects that cannot be mixed in one request: AIP-160 comparisons
/// (`=`, `!=`, `<`, `<=`, `>`, `>=`, `:`) and regular expressions (`name eq edge-.*`). When the
/// user writes the regular-expression dialect, the API filter is the user's clauses alone and
/// kubeip checks address type and IP version on the answer instead.
public struct GCPFilter: Sendable, Equatable, CustomStringConvertible {
    /// The user's clauses, trimmed, in order.
    public var clauses: [String]
    /// Whether the clauses use the regular-expression dialect (`eq` / `ne`).
    public var usesRegularExpressions: Bool

    public init(clauses: [String] = [], usesRegularExpressions: Bool = false) {
        self.clauses = clauses
        self.usesRegularExpressions = usesRegularExpressions
    }

    /// Whether the filter selects every address.
    public var isEmpty: Bool { clauses.isEmpty }

    static let expectedForm = "expected Compute Engine filter clauses separated by ';', e.g. labels.env=prod;labels.app=edge"

    /// Validates the syntax locally, before any call; throws ``KubeIPError`` `.invalidSetting`
    /// naming `filter` when a clause is empty, has unbalanced quotes or parentheses, or
    /// compares nothing. The empty string (or only whitespace) selects every address.
    public static func parse(_ text: String) throws -> GCPFilter {
        if text.trimmedWhitespace.isEmpty { return GCPFilter() }
        let malformed = { (why: String) in
            KubeIPError.invalid("filter", "\(expectedForm); got '\(text)' (\(why))")
        }
        var clauses: [String] = []
        var regex: Bool?
        for (index, segment) in try split(text, onError: malformed).enumerated() {
            let clause = segment.trimmedWhitespace
            guard !clause.isEmpty else { throw malformed("clause \(index + 1) is empty") }
            let scan = try Scan(clause, onError: malformed)
            guard scan.hasComparison || scan.hasRegexOperator else {
                throw malformed("clause '\(clause)' has no comparison operator (=, !=, <, <=, >, >=, :, eq, ne)")
            }
            if scan.hasComparison && scan.hasRegexOperator {
                throw malformed("clause '\(clause)' mixes eq/ne regular expressions with comparison operators")
            }
            if let regex, regex != scan.hasRegexOperator {
                throw malformed("the API cannot mix eq/ne regular-expression clauses with comparison clauses")
            }
            regex = scan.hasRegexOperator
            clauses.append(clause)
        }
        return GCPFilter(clauses: clauses, usesRegularExpressions: regex ?? false)
    }

    /// The API filter for `family`, with kubeip's own clauses (see the type's documentation).
    public func apiFilter(family: IPFamily) -> String {
        if usesRegularExpressions {
            return clauses.count == 1 ? clauses[0] : clauses.map { "(\($0))" }.joined(separator: " ")
        }
        let version = family == .ipv6 ? #"(ipVersion = "IPV6")"# : #"(ipVersion != "IPV6")"#
        return (clauses.map { "(\($0))" } + [#"(addressType = "EXTERNAL")"#, version]).joined(separator: " AND ")
    }

    /// The API filter for one named address of the pool (reading an address back), or nil in
    /// the regular-expression dialect, which cannot constrain a second field.
    public func apiFilter(family: IPFamily, name: String) -> String? {
        guard !usesRegularExpressions else { return nil }
        let quoted = name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
        return apiFilter(family: family) + " AND (name = \"\(quoted)\")"
    }

    /// Back to the setting's form.
    public var description: String { clauses.joined(separator: ";") }

    /// Splits on `;` outside quotes (a backslash escapes inside quotes, as in the API's syntax).
    private static func split(_ text: String, onError: (String) -> KubeIPError) throws -> [String] {
        guard let parts = QuotedText.split(text, on: ";", backslashEscapes: true) else { throw onError("unbalanced quote") }
        return parts
    }

    /// What one clause contains, outside quoted strings.
    private struct Scan {
        var hasComparison = false
        var hasRegexOperator = false

        init(_ clause: String, onError: (String) -> KubeIPError) throws {
            var depth = 0
            var quote: Character?
            var escaped = false
            var word = ""
            var words: [String] = []
            for character in clause {
                if let open = quote {
                    if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == open { quote = nil }
                    continue
                }
                switch character {
                case "\"", "'": quote = character
                case "(": depth += 1
                case ")":
                    depth -= 1
                    if depth < 0 { throw onError("unbalanced parentheses in '\(clause)'") }
                case "=", "<", ">", ":": hasComparison = true
                default: break
                }
                if character == " " || character == "\t" || character == "(" || character == ")" {
                    if !word.isEmpty { words.append(word); word = "" }
                } else {
                    word.append(character)
                }
            }
            if !word.isEmpty { words.append(word) }
            if quote != nil { throw onError("unbalanced quote in '\(clause)'") }
            if depth != 0 { throw onError("unbalanced parentheses in '\(clause)'") }
            // `eq` / `ne` between a field and a value: the regular-expression dialect.
            for (i, w) in words.enumerated() where (w == "eq" || w == "ne") && i > 0 && i < words.count - 1 {
                hasRegexOperator = true
            }
        }
    }
}
