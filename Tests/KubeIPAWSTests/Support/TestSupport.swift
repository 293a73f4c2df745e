import Foundation
import KubeIPCore
import KubeIPHTTP
import Logging

/// A clock that never waits: `sleep` records the duration and advances `now`.
final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var slept: [Duration] = []

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_795_200)) { current = start } // 2026-11-27T16:00:00Z

    var now: Date { lock.withLock { current } }
    var sleeps: [Duration] { lock.withLock { slept } }

    func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }

    func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        lock.withLock {
            slept.append(duration)
            current = current.addingTimeInterval(duration.seconds)
        }
    }
}

/// Always the same "random" value.
struct FixedRandom: RandomSource {
    var value: Double = 0.5
    func nextUnit() -> Double { value }
}

/// Captures every log record (message and metadata) at trace level.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [String] = []

    var lines: [String] { lock.withLock { records } }
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
            let error = event.error.map { " error=\($0)" } ?? ""
            capture.append("\(event.level) \(event.message) \(rendered)\(error)")
        }
    }
}

extension HTTPRequest {
    /// The form-encoded body as ordered pairs, decoded.
    var formParameters: [(String, String)] {
        String(decoding: body, as: UTF8.self).split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in s.removingPercentEncoding ?? String(s) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    var form: [String: String] {
        Dictionary(formParameters, uniquingKeysWith: { first, _ in first })
    }
}

func xmlResponse(_ status: Int, _ body: String, requestID: String = "req-1") -> HTTPResponse {
    HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", "text/xml;charset=UTF-8"),
                                           HTTPHeader("x-amzn-RequestId", requestID)],
                 body: Array(body.utf8))
}

func ec2Error(_ status: Int, _ code: String, _ message: String) -> HTTPResponse {
    xmlResponse(status, """
    <?xml version="1.0" encoding="UTF-8"?>
    <Response><Errors><Error><Code>\(code)</Code><Message>\(message)</Message></Error></Errors><RequestID>err-\(code)</RequestID></Response>
    """)
}

/// An HTTP client whose answers come from a closure; records every request.
final class ScriptedHTTP: HTTPClient, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [HTTPRequest] = []
    private let handler: @Sendable (HTTPRequest, Int) async throws -> HTTPResponse

    /// `handler` gets each request and its 0-based index.
    init(_ handler: @escaping @Sendable (HTTPRequest, Int) async throws -> HTTPResponse) { self.handler = handler }

    var requests: [HTTPRequest] { lock.withLock { log } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let index = lock.withLock { () -> Int in
            log.append(request)
            return log.count - 1
        }
        return try await handler(request, index)
    }
}
