/// The apimachinery name and label syntax checks (`k8s.io/apimachinery/pkg/util/validation`),
/// with their messages word for word.
enum KubernetesNames {
    static let dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        + "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        + "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
        + "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        + "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
        + "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
        + "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let qualifiedNameFormatMessage = "a qualified name must consist of alphanumeric characters, '-', '_' or '.', "
        + "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
        + "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
        + "prefix and '/' (e.g. 'example.com/MyName')"
    static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        + "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
        + "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    private static func isLowerAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) && c.isLetterOrDigit }
    private static func isAlnum(_ c: Character) -> Bool { c.isASCII && c.isLetterOrDigit }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    static func matchesLabel(_ text: Substring) -> Bool {
        guard let first = text.first, let last = text.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return text.allSatisfy { isLowerAlnum($0) || $0 == "-" }
    }

    /// `IsDNS1123Label`.
    static func dns1123Label(_ text: String) -> [String] {
        var errors: [String] = []
        if text.count > 63 { errors.append("must be no more than 63 characters") }
        if !matchesLabel(Substring(text)) { errors.append(dns1123LabelMessage) }
        return errors
    }

    /// `IsDNS1123Subdomain`.
    static func dns1123Subdomain(_ text: String) -> [String] {
        var errors: [String] = []
        if text.count > 253 { errors.append("must be no more than 253 characters") }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if !parts.allSatisfy(matchesLabel) { errors.append(dns1123SubdomainMessage) }
        return errors
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    static func matchesQualifiedPart(_ text: Substring) -> Bool {
        guard let first = text.first, let last = text.last, isAlnum(first), isAlnum(last) else { return false }
        return text.allSatisfy { isAlnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// `IsQualifiedName`: label keys, annotation keys, taint keys.
    static func qualifiedName(_ text: String) -> [String] {
        var errors: [String] = []
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                errors += dns1123Subdomain(String(prefix)).map { "prefix part \($0)" }
            }
        default:
            return [qualifiedNameFormatMessage]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.count > 63 {
            errors.append("name part must be no more than 63 characters")
        }
        if !name.isEmpty && !matchesQualifiedPart(name) { errors.append(qualifiedNameMessage) }
        return errors
    }

    /// `IsValidLabelValue`.
    static func labelValue(_ text: String) -> [String] {
        var errors: [String] = []
        if text.count > 63 { errors.append("must be no more than 63 characters") }
        if !text.isEmpty && !matchesQualifiedPart(Substring(text)) { errors.append(labelValueMessage) }
        return errors
    }

    /// `ValidateLabels` at `path`.
    static func validateLabels(_ labels: [String: String], path: String) -> [FieldError] {
        var errors: [FieldError] = []
        for key in labels.keys.sorted() {
            errors += qualifiedName(key).map { FieldError.invalid(path, goQuote(key), $0) }
            errors += labelValue(labels[key]!).map { FieldError.invalid(path, goQuote(labels[key]!), $0) }
        }
        return errors
    }

    /// `ValidateAnnotations` at `path`: qualified keys (checked lower-cased), 256 KiB in all.
    static func validateAnnotations(_ annotations: [String: String], path: String) -> [FieldError] {
        var errors: [FieldError] = []
        var total = 0
        for key in annotations.keys.sorted() {
            errors += qualifiedName(key.lowercased()).map { FieldError.invalid(path, goQuote(key), $0) }
            total += key.utf8.count + annotations[key]!.utf8.count
        }
        if total > 262_144 {
            errors.append(FieldError(reason: "FieldValueTooLong", field: path, body: "Too long: must have at most 262144 bytes"))
        }
        return errors
    }
}

private extension Character {
    var isLetterOrDigit: Bool { isLetter || isNumber }
}
