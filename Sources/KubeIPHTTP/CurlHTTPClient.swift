import CCurl
import Dispatch
import Synchronization

/// An ``HTTPClient`` backed by libcurl's easy interface.
///
/// Each request runs on a Dispatch global queue, so the blocking `curl_easy_perform` never
/// occupies a thread of Swift's cooperative pool. The calling task resumes when the transfer ends.
///
/// Connections are kept alive and reused: a client (and every copy of it) keeps a small pool
/// of idle easy handles, each holding the connection its last request left open, so sequential
/// requests to one server make one TCP connection and one TLS handshake (see ``CurlHandlePool``).
/// Concurrent requests each get their own handle and connection; TLS sessions and DNS answers
/// are shared between them.
///
/// Behaviour, per request:
/// - The method is sent as given (`GET`, `PUT`, `POST`, `PATCH`, `DELETE`, …). `POST`, `PUT` and
///   `PATCH` always carry a body with an explicit `Content-Length` (possibly 0); other methods carry
///   one only when ``HTTPRequest/body`` is not empty.
/// - Only the caller's headers are added. libcurl's default form `Content-Type` and its
///   `Expect: 100-continue` are suppressed; a header whose name or value holds a line break is
///   refused (``HTTPTransportError``) rather than sent.
/// - ``HTTPRequest/timeout`` bounds the whole exchange; connecting is bounded by the smaller of
///   that and ``connectTimeoutCap``.
/// - TLS peers and host names are verified against ``tls`` (the system store unless it names
///   trusted certificates, which then replace the system store entirely). Only `http` and
///   `https` URLs are accepted (other schemes throw ``HTTPTransportError`` before any connection).
///   Proxy environment variables (`https_proxy`, `no_proxy`, …) are honoured as libcurl does.
/// - Redirects are not followed unless ``followRedirects`` is set: a 3xx is a response like any
///   other. When several responses arrive (a `1xx` interim, or followed redirects) the headers
///   returned are those of the last one.
/// - Cancelling the calling task aborts the transfer and throws `CancellationError`.
///
/// Transport failures throw ``HTTPTransportError``; its text never contains the URL's query.
public struct CurlHTTPClient: HTTPClient {
    /// Trust, client identity and server name for `https` requests.
    public let tls: TLSOptions
    /// Whether to follow `3xx` redirects (at most 5, `http`/`https` only).
    public let followRedirects: Bool
    /// The longest connect phase allowed, whatever the request's whole timeout.
    public let connectTimeoutCap: Duration
    /// Responses with a longer body fail with ``HTTPTransportError`` instead of exhausting memory.
    public let maxResponseBytes: Int
    /// Idle handles (and their open connections), shared by the copies of this client.
    let handles: CurlHandlePool

    /// A PEM file of trusted certificate authorities replacing the system bundle; nil for the default.
    public var caBundlePath: String? {
        if case .file(let path) = tls.trustedCertificates { return path }
        return nil
    }

    /// Creates a client.
    /// - Parameters:
    ///   - tls: trust, client certificate and server name (default: the system trust store).
    ///   - followRedirects: follow up to 5 redirects; off by default.
    ///   - connectTimeoutCap: upper bound of the connect phase (default 5 s).
    ///   - maxResponseBytes: largest accepted response body (default 32 MiB).
    ///   - maxIdleConnections: connections kept open for reuse (default 4).
    public init(tls: TLSOptions = TLSOptions(), followRedirects: Bool = false,
                connectTimeoutCap: Duration = .seconds(5), maxResponseBytes: Int = 32 << 20,
                maxIdleConnections: Int = 4) {
        self.tls = tls
        self.followRedirects = followRedirects
        self.connectTimeoutCap = connectTimeoutCap
        self.maxResponseBytes = maxResponseBytes
        self.handles = CurlHandlePool(maxIdle: maxIdleConnections)
    }

    /// Creates a client trusting the CAs in the PEM file `caBundlePath` (nil: the system bundle).
    public init(caBundlePath: String?, followRedirects: Bool = false,
                connectTimeoutCap: Duration = .seconds(5), maxResponseBytes: Int = 32 << 20) {
        self.init(tls: TLSOptions(trustedCertificates: caBundlePath.map { .file($0) }),
                  followRedirects: followRedirects, connectTimeoutCap: connectTimeoutCap,
                  maxResponseBytes: maxResponseBytes)
    }

    /// Sends `request`; any HTTP status is returned as a response.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let cancel = CancelFlag()
        let configuration = self
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result {
                        try CurlTransfer.perform(request, configuration: configuration, cancel: cancel)
                    })
                }
            }
        } onCancel: {
            cancel.set()
        }
    }
}

/// Set from the cancelling task, read by curl's progress callback on the transfer thread.
final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
