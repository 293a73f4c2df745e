import Foundation
import KubeIPCore
import KubeIPHTTP
import Logging

/// An HTTP client answering from a closure and recording every request.
final class ScriptedHTTP: HTTPClient, @unchecked Sendable {
    typealias Handler = (HTTPRequest) throws -> HTTPResponse
    private let lock = NSLock()
    private var handler: Handler
    private var log: [HTTPRequest] = []

    init(_ handler: @escaping Handler) { self.handler = handler }

    var requests: [HTTPRequest] { lock.withLock { log } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try lock.withLock {
            log.append(request)
            return try handler(request)
        }
    }
}

/// Answers with a queue of responses per URL prefix; the last one repeats.
final class Queue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<HTTPResponse, HTTPTransportError>]
    init(_ items: [Result<HTTPResponse, HTTPTransportError>]) { self.items = items }
    func next() throws -> HTTPResponse {
        let item = lock.withLock { items.count > 1 ? items.removeFirst() : items[0] }
        return try item.get()
    }
}

func json(_ status: Int = 200, _ text: String, headers: [HTTPHeader] = []) -> HTTPResponse {
    HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", "application/json")] + headers, body: Array(text.utf8))
}

func metadataAnswer(_ text: String, status: Int = 200) -> HTTPResponse {
    HTTPResponse(status: status, headers: [HTTPHeader("Metadata-Flavor", "Google")], body: Array(text.utf8))
}

func googleError(_ status: Int, _ message: String, reason: String = "invalid", location: String? = nil,
                 headers: [HTTPHeader] = []) -> HTTPResponse {
    let loc = location.map { #", "location": "\#($0)", "locationType": "parameter""# } ?? ""
    return json(status, #"""
    {"error": {"code": \#(status), "message": "\#(message)", "errors": [{"message": "\#(message)", "domain": "global", "reason": "\#(reason)"\#(loc)}]}}
    """#, headers: headers)
}

let transportTimeout = HTTPTransportError(url: "https://compute.googleapis.com/", reason: "Connection timed out", isTimeout: true)

extension HTTPRequest {
    /// The query parameters, decoded, in order.
    var queryItems: [(String, String)] {
        guard let query = url.split(separator: "?", maxSplits: 1).dropFirst().first else { return [] }
        return query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in s.removingPercentEncoding ?? String(s) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    func query(_ name: String) -> String? { queryItems.first { $0.0 == name }?.1 }

    /// The path after the host, without the query.
    var path: String {
        let noQuery = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        guard let scheme = noQuery.range(of: "://") else { return noQuery }
        let rest = noQuery[scheme.upperBound...]
        return rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    var form: [String: String] {
        Dictionary(bodyText.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in s.removingPercentEncoding ?? String(s) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }, uniquingKeysWith: { a, _ in a })
    }
}

/// Captures every log record (message and metadata) at trace level.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [String] = []

    var lines: [String] { lock.withLock { records } }
    var text: String { lines.joined(separator: "\n") }
    func append(_ line: String) { lock.withLock { records.append(line) } }

    func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append("\(event.level) \(event.message) \(rendered)")
        }
    }
}
