/// One HTTP header.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTPHeader {
    /// The first value of header `name` (case-insensitive).
    public func value(named name: String) -> String? {
        let wanted = name.lowercased()
        return first { $0.name.lowercased() == wanted }?.value
    }
}

/// An HTTP request, as the cloud adapters build it.
public struct HTTPRequest: Sendable, Hashable {
    public var method: String
    /// Absolute URL, `http://` or `https://`.
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// Whole-request timeout (connect, send, receive).
    public var timeout: Duration

    public init(method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8] = [],
                timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers.value(named: name) }
}

/// An HTTP response: any status is a response, not an error.
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers.value(named: name) }

    /// The body decoded as UTF-8 (invalid sequences repaired).
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// The request could not be completed: no connection, a TLS failure or a timeout.
/// Carries the URL without its query (queries may hold signatures) and libcurl's reason.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public var url: String
    public var reason: String
    public var isTimeout: Bool

    public init(url: String, reason: String, isTimeout: Bool) {
        self.url = urlWithoutQuery(url)
        self.reason = reason
        self.isTimeout = isTimeout
    }

    public var description: String {
        isTimeout ? "timed out talking to \(url): \(reason)" : "cannot reach \(url): \(reason)"
    }
}

/// Sends HTTP requests. Production uses libcurl; tests substitute in-process servers.
public protocol HTTPClient: Sendable {
    /// Sends `request` and returns the response whatever its status; throws
    /// ``HTTPTransportError`` only when no response arrived.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
