import KubeIPCore
import KubeIPHTTP

/// One request as the server read it off the wire.
public struct HTTPServerRequest: Sendable, Hashable {
    /// One `name=value` pair of the query, percent-decoded (`+` is a space, as Go's servers read it).
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The method token, as sent (`GET`, `PATCH`, ...).
    public var method: String
    /// The path of the request target, still percent-encoded, starting with `/`.
    public var path: String
    /// The raw query (after `?`, without it); empty when there is none.
    public var rawQuery: String
    /// The header fields in the order received (names as sent; compare case-insensitively).
    public var headers: [HTTPHeader]
    /// The body (Content-Length or de-chunked); empty when there is none.
    public var body: [UInt8]
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String
    /// The peer, `address:port` (`[address]:port` for IPv6); empty for in-process requests.
    public var remoteAddress: String

    public init(method: String, path: String, rawQuery: String = "", headers: [HTTPHeader] = [],
                body: [UInt8] = [], version: String = "HTTP/1.1", remoteAddress: String = "") {
        self.method = method
        self.path = path
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
        self.version = version
        self.remoteAddress = remoteAddress
    }

    /// A request for `target` (`/path?query`), split at the first `?`.
    public init(method: String, target: String, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.init(method: method, path: String(parts[0]), rawQuery: parts.count > 1 ? String(parts[1]) : "",
                  headers: headers, body: body)
    }

    /// The query's pairs in order, decoded.
    public var queryItems: [QueryItem] {
        rawQuery.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return QueryItem(name: QuotedText.percentDecoded(parts[0], plusIsSpace: true),
                             value: parts.count > 1 ? QuotedText.percentDecoded(parts[1], plusIsSpace: true) : "")
        }
    }

    /// The first value of query parameter `name`.
    public func query(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers.value(named: name) }
}

/// What a handler answers. The server adds `Content-Length` and, when it closes the
/// connection afterwards, `Connection: close`; any such headers the handler sets are replaced.
public struct HTTPServerResponse: Sendable, Hashable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: Int = 200) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [HTTPHeader("Content-Type", "text/plain; charset=utf-8")],
                           body: Array(text.utf8))
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers.value(named: name) }

    /// The standard reason phrase for `status` (`OK`, `Not Found`, ...); `Unknown` otherwise.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Unknown"
        }
    }

    /// Whether a response with this status to this method carries no body (1xx, 204, 304, HEAD).
    static func hasNoBody(status: Int, method: String) -> Bool {
        method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
    }

    /// The response as bytes on the wire.
    func serialized(method: String, close: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(HTTPServerResponse.reasonPhrase(status))\r\n"
        for header in headers {
            let name = header.name.lowercased()
            if name == "content-length" || name == "connection" || name == "transfer-encoding" { continue }
            // A handler's header must not break the framing: no CR or LF in names or values.
            let cleanName = header.name.filter { $0 != "\r" && $0 != "\n" && $0 != ":" }
            let cleanValue = header.value.filter { $0 != "\r" && $0 != "\n" }
            head += "\(cleanName): \(cleanValue)\r\n"
        }
        let noBody = HTTPServerResponse.hasNoBody(status: status, method: method)
        if !(status == 204 || status == 304 || (100..<200).contains(status)) {
            head += "Content-Length: \(body.count)\r\n"
        }
        if close { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (noBody ? [] : body)
    }
}
