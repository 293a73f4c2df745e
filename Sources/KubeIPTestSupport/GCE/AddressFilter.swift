/// The part of Compute's list-filter language the double understands: comparisons
/// `field = value`, `field != value` and `field:*` (present), on top-level Address fields and
/// `labels.<key>`, values bare or double-quoted, each clause optionally parenthesised,
/// clauses joined by `AND` or by white space. Anything else (OR, NOT, regular-expression
/// `eq`/`ne`, `<`/`>`, wildcards, nested fields other than labels) is refused with a 400 as an
/// expression the double cannot evaluate: better a loud failure than a silently wrong list.
struct AddressFilter: Sendable {
    enum Operator: Sendable { case equal, notEqual, present }

    struct Clause: Sendable, Hashable {
        var field: String
        var op: Operator
        var value: String
    }

    /// The clauses, all of which must hold.
    private(set) var clauses: [Clause] = []

    /// Top-level Address fields the filter may name (the schema's properties).
    static let addressFields: Set<String> = [
        "address", "addressType", "creationTimestamp", "description", "id", "ipCollection", "ipVersion",
        "ipv6EndpointType", "kind", "labelFingerprint", "labels", "name", "network", "networkAttachment",
        "networkTier", "prefixLength", "purpose", "region", "selfLink", "serviceClassId", "status",
        "subnetwork", "users",
    ]

    private let text: [Character]
    private var index = 0

    init(_ expression: String) throws(GoogleErrorResponse) {
        text = Array(expression)
        try parseSequence(depth: 0)
        skipSpace()
        if index < text.count { throw invalid("unexpected '\(text[index])'") }
    }

    /// Whether an address whose fields read as `value(of:)` passes every clause
    /// (`value(of:)` answers nil for an absent field or label).
    func matches(_ value: (String) -> String?) -> Bool {
        clauses.allSatisfy { clause in
            let actual = value(clause.field)
            switch clause.op {
            case .equal: return actual == clause.value
            case .notEqual: return actual != clause.value
            case .present: return actual != nil
            }
        }
    }

    private func invalid(_ why: String) -> GoogleErrorResponse {
        .badRequest("Invalid value for field 'filter': '\(String(text))'. Invalid list filter expression (\(why)).")
    }

    private mutating func skipSpace() {
        while index < text.count, text[index].isWhitespace { index += 1 }
    }

    private func peekWord() -> String {
        var end = index
        while end < text.count, text[end].isLetter { end += 1 }
        return String(text[index..<end])
    }

    private mutating func parseSequence(depth: Int) throws(GoogleErrorResponse) {
        guard depth < 8 else { throw invalid("too deeply nested") }
        var terms = 0
        var pendingAnd = false
        while true {
            skipSpace()
            if index >= text.count || text[index] == ")" { break }
            let word = peekWord()
            let followedBySeparator = index + word.count >= text.count
                || text[index + word.count].isWhitespace || text[index + word.count] == "("
            if word == "AND" && followedBySeparator {
                guard terms > 0, !pendingAnd else { throw invalid("AND without a left operand") }
                index += word.count
                pendingAnd = true
                continue
            }
            if (word == "OR" || word == "NOT") && followedBySeparator {
                throw invalid("\(word) is not supported by the double")
            }
            if text[index] == "-" { throw invalid("negation is not supported by the double") }
            if text[index] == "(" {
                index += 1
                try parseSequence(depth: depth + 1)
                skipSpace()
                guard index < text.count, text[index] == ")" else { throw invalid("missing ')'") }
                index += 1
            } else {
                clauses.append(try parseComparison())
            }
            terms += 1
            pendingAnd = false
        }
        if pendingAnd { throw invalid("AND without a right operand") }
        if terms == 0 { throw invalid("empty expression") }
    }

    private mutating func parseComparison() throws(GoogleErrorResponse) -> Clause {
        let start = index
        while index < text.count, text[index].isLetter || text[index].isNumber || "_.-".contains(text[index]) {
            index += 1
        }
        let field = String(text[start..<index])
        guard let first = field.first, first.isLetter else { throw invalid("expected a field name") }
        try checkField(field)
        skipSpace()
        guard index < text.count else { throw invalid("expected an operator after '\(field)'") }
        let op: Operator
        if text[index] == "=" {
            op = .equal
            index += 1
        } else if text[index] == "!", index + 1 < text.count, text[index + 1] == "=" {
            op = .notEqual
            index += 2
        } else if text[index] == ":" {
            op = .present
            index += 1
        } else if "<>".contains(text[index]) {
            throw invalid("ordering comparisons are not supported by the double")
        } else if ["eq", "ne"].contains(peekWord()) {
            throw invalid("regular-expression comparisons (eq, ne) are not supported by the double")
        } else {
            throw invalid("expected =, != or : after '\(field)'")
        }
        skipSpace()
        let value = try parseValue()
        if op == .present {
            guard value == "*" else { throw invalid("':' is supported only as ':*'") }
        } else if value.contains("*") {
            throw invalid("wildcards are not supported by the double")
        }
        return Clause(field: field, op: op, value: value)
    }

    private mutating func parseValue() throws(GoogleErrorResponse) -> String {
        guard index < text.count else { throw invalid("expected a value") }
        if text[index] == "\"" {
            index += 1
            var value = ""
            while true {
                guard index < text.count else { throw invalid("unterminated string") }
                let c = text[index]
                index += 1
                if c == "\"" { break }
                if c == "\\" {
                    guard index < text.count else { throw invalid("unterminated string") }
                    value.append(text[index])
                    index += 1
                } else {
                    value.append(c)
                }
            }
            return value
        }
        let start = index
        while index < text.count, !text[index].isWhitespace, !"()\"".contains(text[index]) { index += 1 }
        guard index > start else { throw invalid("expected a value") }
        return String(text[start..<index])
    }

    private func checkField(_ field: String) throws(GoogleErrorResponse) {
        let parts = field.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 2, parts[0] == "labels", !parts[1].isEmpty,
           parts[1].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-" }) {
            return
        }
        guard parts.count == 1, AddressFilter.addressFields.contains(field), field != "labels" else {
            throw invalid("Address has no field '\(field)' the double can filter on")
        }
    }
}
