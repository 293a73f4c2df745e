import Logging

/// One HTTP exchange as every API client here makes it: timed, logged at debug with the
/// method, the URL without its query, the status and the duration (never headers, bodies or
/// query strings, which carry tokens, signatures and assertions), and a transport failure
/// turned into the caller's own error.
public struct LoggedHTTP: Sendable {
    /// The transport.
    public let http: any HTTPClient
    /// Where the debug line goes.
    public let logger: Logger

    /// A logged transport over `http`.
    public init(http: any HTTPClient, logger: Logger) {
        self.http = http
        self.logger = logger
    }

    /// Sends `request` and logs `message` with `metadata` plus `method`, `url`, `status`
    /// (`timeout` or `transport error` when no response came) and `duration_ms`;
    /// `requestID` may add the server's request id. `unreachable` builds the error thrown when
    /// the transport fails (its reason and whether it timed out).
    public func send(_ request: HTTPRequest, _ message: Logger.Message, _ metadata: Logger.Metadata = [:],
                     requestID: (HTTPResponse) -> String? = { _ in nil },
                     unreachable: (HTTPTransportError) -> any Error) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        var details = metadata
        details["method"] = "\(request.method)"
        details["url"] = "\(urlWithoutQuery(request.url))"
        do {
            let response = try await http.send(request)
            details["status"] = "\(response.status)"
            details["duration_ms"] = "\(Self.milliseconds(since: started))"
            if let id = requestID(response) { details["request_id"] = "\(id)" }
            logger.debug(message, metadata: details)
            return response
        } catch let error as HTTPTransportError {
            details["status"] = "\(error.isTimeout ? "timeout" : "transport error")"
            details["duration_ms"] = "\(Self.milliseconds(since: started))"
            logger.debug(message, metadata: details)
            throw unreachable(error)
        }
    }

    /// Whole milliseconds elapsed since `start`.
    public static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        Int(((ContinuousClock.now - start).seconds * 1000).rounded())
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
