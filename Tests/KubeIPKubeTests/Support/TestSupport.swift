import Foundation
import KubeIPCore
import KubeIPHTTP
import Logging
import Synchronization
@testable import KubeIPKube

/// A directory under the system temp dir, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "kubeip-kube-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` (sub-directories created) and returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full) }
        return full
    }

    func read(_ name: String) -> String? { try? String(contentsOfFile: path + "/" + name, encoding: .utf8) }
}

/// One request the fake API expects, and what it answers.
struct Exchange: Sendable {
    var method: String
    /// Path and query from the server's root.
    var path: String
    var status: Int = 200
    var body: String = "{}"
    var headers: [HTTPHeader] = []
    /// A transport failure instead of an answer.
    var failure: HTTPTransportError?
    /// Extra checks on the request.
    var check: @Sendable (HTTPRequest) -> Void = { _ in }
}

/// A request/response fake of the Kubernetes API for one test: answers the expected exchanges
/// in order, recording each request; a request that is not the next expected one is answered 599.
final class FakeKubeAPI: HTTPClient {
    let server: String
    private let state: Mutex<(expected: [Exchange], seen: [HTTPRequest])>

    init(server: String = "https://kube.test:6443", _ exchanges: [Exchange]) {
        self.server = server
        state = Mutex((exchanges, []))
    }

    var requests: [HTTPRequest] { state.withLock { $0.seen } }
    var remaining: Int { state.withLock { $0.expected.count } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let next: Exchange? = state.withLock { state in
            state.seen.append(request)
            return state.expected.isEmpty ? nil : state.expected.removeFirst()
        }
        guard let next else { return HTTPResponse(status: 599, body: Array("unexpected \(request.method) \(request.url)".utf8)) }
        guard request.method == next.method, request.url == server + next.path else {
            return HTTPResponse(status: 599, body: Array("expected \(next.method) \(next.path), got \(request.method) \(request.url)".utf8))
        }
        next.check(request)
        if let failure = next.failure { throw failure }
        return HTTPResponse(status: next.status, headers: next.headers, body: Array(next.body.utf8))
    }
}

/// Every log line, with its metadata, for scanning.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    var all: [String] { lines.withLock { $0 } }
    func add(_ line: String) { lines.withLock { $0.append(line) } }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            capture.add("\(event.level) \(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
    }
}

/// The request body as a string.
extension HTTPRequest {
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A connection to the fake API with a static token.
func testConnection(token: String = "sekret-token-abc123", server: String = "https://kube.test:6443") -> KubeConnection {
    KubeConnection(server: server, credentials: .token(KubeSecret(token)), origin: "test")
}
