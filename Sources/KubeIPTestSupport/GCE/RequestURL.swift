import KubeIPCore
/// An absolute URL taken apart the way a web server sees it: scheme, authority (host and
/// port, lower-cased, default port dropped), percent-decoded path segments and query pairs.
struct RequestURL: Sendable, Hashable {
    var scheme: String
    /// `host` or `host:port`, without the scheme's default port.
    var authority: String
    /// The raw path, starting with `/` (still percent-encoded).
    var rawPath: String
    /// Query pairs in order, decoded (`+` is a space, as in HTML forms and Google's frontends).
    var query: [(name: String, value: String)]

    static func == (a: RequestURL, b: RequestURL) -> Bool {
        a.scheme == b.scheme && a.authority == b.authority && a.rawPath == b.rawPath
            && a.query.map(\.name) == b.query.map(\.name) && a.query.map(\.value) == b.query.map(\.value)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(scheme)
        hasher.combine(authority)
        hasher.combine(rawPath)
    }

    /// Parses `scheme://authority/path?query#fragment`; nil when it is not absolute http(s).
    init?(_ text: String) {
        guard let schemeEnd = text.firstRange(of: "://") else { return nil }
        scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var rest = Substring(text[schemeEnd.upperBound...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        authority = RequestURL.normalAuthority(String(rest[..<authorityEnd]), scheme: scheme)
        guard !authority.isEmpty else { return nil }
        rest = rest[authorityEnd...]
        var queryText: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        rawPath = rest.isEmpty ? "/" : String(rest)
        query = queryText.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (RequestURL.formDecode(parts[0]), parts.count > 1 ? RequestURL.formDecode(parts[1]) : "")
        }
    }

    /// Lower-cases the host and drops the scheme's default port.
    static func normalAuthority(_ raw: String, scheme: String) -> String {
        var authority = raw.lowercased()
        if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
        let defaultPort = scheme == "https" ? ":443" : ":80"
        if authority.hasSuffix(defaultPort) { authority.removeLast(defaultPort.count) }
        return authority
    }

    /// The path split on `/` and percent-decoded, empty segments kept except the leading one.
    var pathSegments: [String] {
        var segments = rawPath.split(separator: "/", omittingEmptySubsequences: false).map { RequestURL.percentDecode($0) }
        if segments.first == "" { segments.removeFirst() }
        return segments
    }

    /// Every value of query parameter `name`.
    func values(_ name: String) -> [String] { query.filter { $0.name == name }.map(\.value) }

    /// Decodes `%XX` escapes (invalid escapes stay as they are).
    static func percentDecode<S: StringProtocol>(_ text: S) -> String {
        QuotedText.percentDecoded(text)
    }

    /// Decodes an `application/x-www-form-urlencoded` component.
    static func formDecode<S: StringProtocol>(_ text: S) -> String {
        QuotedText.percentDecoded(text, plusIsSpace: true)
    }

    /// Decodes a whole form body into name/value pairs.
    static func formPairs(_ body: String) -> [(name: String, value: String)] {
        body.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (formDecode(parts[0]), parts.count > 1 ? formDecode(parts[1]) : "")
        }
    }
}
