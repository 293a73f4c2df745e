import KubeIPCore
import KubeIPHTTP
import Logging

/// One HTTP exchange as every AWS client here makes it: timed, logged at debug with the
/// status and duration (never headers, bodies or query strings), and a transport failure
/// turned into a retryable ``KubeIPError``.
struct LoggedHTTP: Sendable {
    let http: any HTTPClient
    let logger: Logger

    /// Sends `request`; `unreachable` builds the error from the transport's reason.
    func send(_ request: HTTPRequest, _ message: Logger.Message, _ metadata: Logger.Metadata,
              requestID: (HTTPResponse) -> String? = { _ in nil },
              unreachable: (String) -> KubeIPError) async throws -> HTTPResponse {
        try await send(request, message, metadata, requestID: requestID, unreachable: { (failure: HTTPTransportError) in
            unreachable(failure.reason)
        })
    }

    /// Sends `request`; `unreachable` builds the error from the transport's failure (reason and whether it timed out).
    func send(_ request: HTTPRequest, _ message: Logger.Message, _ metadata: Logger.Metadata,
              requestID: (HTTPResponse) -> String? = { _ in nil },
              unreachable: (HTTPTransportError) -> KubeIPError) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        var details = metadata
        do {
            let response = try await http.send(request)
            details["status"] = "\(response.status)"
            details["duration_ms"] = "\(Self.milliseconds(since: started))"
            if let id = requestID(response) { details["request_id"] = "\(id)" }
            logger.debug(message, metadata: details)
            return response
        } catch let error as HTTPTransportError {
            details["status"] = "transport error"
            details["duration_ms"] = "\(Self.milliseconds(since: started))"
            logger.debug(message, metadata: details)
            throw unreachable(error)
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        Int(((ContinuousClock.now - start).seconds * 1000).rounded())
    }
}
