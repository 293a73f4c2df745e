#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging
import Synchronization

/// Calls the Kubernetes API: Nodes, Leases and Events, as kubeip's kube mode needs them.
///
/// Every call sends `Accept: application/json`, `User-Agent`, the credential of the moment
/// (`Authorization: Bearer …`, or a client certificate), a JSON body where it has one, and is
/// bounded by ``requestTimeout``.
///
/// - 429, 5xx and transport failures are retried with ``backoff`` (honouring `Retry-After`),
///   4xx never. A retried create or update may find that its first attempt landed (409).
/// - A 401 makes the credential provider forget the credential (a rotated token file is read
///   again, an exec plugin runs again) and the call is tried once more before it fails.
/// - A failure the server answered throws ``KubeAPIError`` (typed ``KubeAPIError/reason``;
///   ``KubeAPIError/kubeIPError`` for the core's classification). Anything else (no answer
///   after the retries, a credential that cannot be had, an unreadable body) throws
///   ``KubeIPError``. ``coreError(_:)`` turns either into a ``KubeIPError``.
/// - Each request logs one debug line: method, URL without query, status and duration.
///   Headers and bodies are never logged; tokens are scrubbed from every message.
public struct KubernetesClient: Sendable {
    /// The API server and its TLS and credential settings.
    public let connection: KubeConnection
    /// Sent as `User-Agent` (`kubeip/0.1.0`).
    public let userAgent: String
    /// Bound on each request (not on its retries).
    public let requestTimeout: Duration
    /// Retries of throttled, failed and unreachable calls.
    public let backoff: Backoff
    /// Longest `Retry-After` honoured.
    public let maxRetryAfter: Duration

    let credentials: any KubeCredentialProvider
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    private let transports: Transports

    /// A client for `connection`.
    /// - Parameters:
    ///   - credentials: where each request's credential comes from (default: the connection's
    ///     source, with `environment` for exec plugins).
    ///   - makeHTTPClient: the transport for a TLS identity: called once for the connection's
    ///     options, and again when an exec plugin hands out a new client certificate.
    public init(connection: KubeConnection, credentials: (any KubeCredentialProvider)? = nil,
                environment: [String: String] = [:],
                makeHTTPClient: @escaping @Sendable (TLSOptions) -> any HTTPClient = { CurlHTTPClient(tls: $0) },
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.kube"), userAgent: String = "kubeip",
                requestTimeout: Duration = .seconds(15),
                backoff: Backoff = Backoff(initial: .milliseconds(250), cap: .seconds(8), maxRetries: 5),
                maxRetryAfter: Duration = .seconds(30)) {
        self.connection = connection
        self.credentials = credentials
            ?? connection.credentials.provider(environment: environment, clock: clock, logger: logger)
        self.clock = clock
        self.random = random
        self.logger = logger
        self.userAgent = userAgent
        self.requestTimeout = requestTimeout
        self.backoff = backoff
        self.maxRetryAfter = maxRetryAfter
        self.transports = Transports(base: connection.tls, make: makeHTTPClient)
    }

    /// A client over one fixed transport (tests, or a caller that built its own).
    public init(connection: KubeConnection, http: any HTTPClient, credentials: (any KubeCredentialProvider)? = nil,
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.kube"), userAgent: String = "kubeip",
                requestTimeout: Duration = .seconds(15),
                backoff: Backoff = Backoff(initial: .milliseconds(250), cap: .seconds(8), maxRetries: 5)) {
        self.init(connection: connection, credentials: credentials, makeHTTPClient: { _ in http }, clock: clock,
                  random: random, logger: logger, userAgent: userAgent, requestTimeout: requestTimeout, backoff: backoff)
    }

    /// `error` as the core's error: a ``KubeAPIError``'s ``KubeAPIError/kubeIPError``, a
    /// ``KubeIPError`` as it is, anything else `.unavailable`.
    public static func coreError(_ error: any Error) -> KubeIPError {
        switch error {
        case let error as KubeAPIError: error.kubeIPError
        case let error as KubeIPError: error
        default: KubeIPError(.unavailable, "Kubernetes API call failed: \(error)")
        }
    }

    // MARK: Requests

    /// One API call, as the resource methods describe it.
    struct Call: Sendable {
        /// `get`, `create`, `update`, `patch`, `delete` (RBAC's verbs).
        var verb: String
        var method: String
        /// From the server's root: `/api/v1/nodes/x`.
        var path: String
        /// For messages: `nodes/x`, `leases/ns/name`.
        var resource: String
        /// For RBAC hints: `""` (core), `coordination.k8s.io`, `events.k8s.io`.
        var apiGroup: String
        var body: [UInt8]?
        var contentType: String?
    }

    /// Sends `call` and decodes a successful answer as `Response`.
    func perform<Response: Decodable>(_ call: Call, as: Response.Type) async throws -> Response {
        let response = try await send(call)
        do {
            return try JSONDecoder().decode(Response.self, from: Data(response.body))
        } catch {
            throw KubeIPError(.cloudAPI, "the Kubernetes API answered \(call.verb) \(call.resource) with a body that is not a \(Response.self): \(Self.decodingProblem(error))",
                              resource: "\(call.verb) \(call.resource)")
        }
    }

    /// Sends `call` with retries and one credential refresh; returns a 2xx response.
    func send(_ call: Call) async throws -> HTTPResponse {
        var attempt = 0
        var refreshed = false
        while true {
            let credential = try await credentials.credential()
            let outcome: Result<HTTPResponse, any Error>
            do {
                outcome = .success(try await exchange(call, credential: credential))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                return response
            case .success(let response):
                let error = apiError(call, response, credential: credential)
                if error.reason == .unauthorized || response.status == 401, !refreshed {
                    refreshed = true
                    logger.debug("kubernetes API refused the credential, refreshing it", metadata: ["call": "\(call.verb) \(call.resource)"])
                    await credentials.refused(credential)
                    continue
                }
                guard error.isRetryable, attempt < backoff.maxRetries else { throw error }
                try await pause(attempt: attempt, retryAfter: retryAfter(response, error), error: error.description)
            case .failure(let error as KubeIPError):
                guard error.isRetryable, attempt < backoff.maxRetries else { throw error }
                try await pause(attempt: attempt, retryAfter: nil, error: error.message)
            case .failure(let error):
                throw error
            }
            attempt += 1
        }
    }

    private func pause(attempt: Int, retryAfter: Duration?, error: String) async throws {
        let delay = retryAfter.map { min($0, maxRetryAfter) } ?? backoff.delay(attempt: attempt, random: random)
        logger.debug("kubernetes API call failed, retrying", metadata: [
            "error": "\(error)", "retry_in_ms": "\(Int(delay.seconds * 1000))",
        ])
        try await clock.sleep(for: delay)
    }

    /// One HTTP exchange; a transport failure becomes a retryable ``KubeIPError``.
    private func exchange(_ call: Call, credential: KubeCredential) async throws -> HTTPResponse {
        var headers = [HTTPHeader("Accept", "application/json"), HTTPHeader("User-Agent", userAgent)]
        if let token = credential.token { headers.append(HTTPHeader("Authorization", "Bearer \(token.value)")) }
        if let contentType = call.contentType { headers.append(HTTPHeader("Content-Type", contentType)) }
        let request = HTTPRequest(method: call.method, url: connection.server + call.path, headers: headers,
                                  body: call.body ?? [], timeout: requestTimeout)
        let http = transports.client(for: credential.clientCertificate)
        let transport = LoggedHTTP(http: http, logger: logger)
        return try await transport.send(request, "kubernetes API call", ["verb": "\(call.verb)", "resource": "\(call.resource)"]) { failure in
            KubeIPError(.unavailable,
                        "\(failure.isTimeout ? "timed out talking to" : "cannot reach") the Kubernetes API at \(connection.server) for \(call.verb) \(call.resource): \(Self.scrub(failure.reason, credential))",
                        resource: "\(call.verb) \(call.resource)")
        }
    }

    /// The typed error of a non-2xx answer, from its Status body when it has one.
    func apiError(_ call: Call, _ response: HTTPResponse, credential: KubeCredential) -> KubeAPIError {
        let status = try? JSONDecoder().decode(KubeStatus.self, from: Data(response.body))
        let reason = status?.reason.flatMap { $0.isEmpty ? nil : KubeAPIError.Reason($0) }
            ?? KubeAPIError.Reason(httpStatus: response.status)
        var message = Self.scrub(status?.message ?? "", credential)
        if status == nil {
            // Not a Status (a proxy's page): its first line, bounded. Scrubbed before it is cut,
            // so that no part of a token a page echoes survives the cut.
            message = String(Self.scrub(response.text, credential).prefix(200).split(whereSeparator: \.isNewline).first ?? "")
        }
        return KubeAPIError(reason: reason, status: response.status, verb: call.verb, resource: call.resource,
                            apiGroup: call.apiGroup, message: message, details: status?.details)
    }

    private func retryAfter(_ response: HTTPResponse, _ error: KubeAPIError) -> Duration? {
        if let header = response.header("Retry-After")?.trimmedWhitespace, let seconds = Int(header), seconds >= 0 {
            return .seconds(seconds)
        }
        if let seconds = error.details?.retryAfterSeconds, seconds > 0 { return .seconds(seconds) }
        return nil
    }

    /// `text` with the credential's token replaced (scrub before cutting a text short).
    static func scrub(_ text: String, _ credential: KubeCredential) -> String {
        guard let token = credential.token?.value, token.count >= 4 else { return text }
        return text.replacing(token, with: "<redacted>")
    }

    private static func decodingProblem(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not JSON" : "bad \(path)"
        @unknown default:
            return "unreadable"
        }
    }

    /// JSON as the API server reads it: compact, keys sorted (stable bodies), `/` unescaped.
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw KubeIPError(.cloudAPI, "cannot encode a Kubernetes request body: \(error)")
        }
    }
}

/// The transport of the connection's TLS identity, and of the latest exec-plugin client
/// certificate (a new certificate is a new TLS identity, so a new client and connection).
private final class Transports: Sendable {
    private let base: TLSOptions
    private let make: @Sendable (TLSOptions) -> any HTTPClient
    private let plain: any HTTPClient
    private let withCertificate = Mutex<(KubeCredential.ClientCertificate, any HTTPClient)?>(nil)

    init(base: TLSOptions, make: @escaping @Sendable (TLSOptions) -> any HTTPClient) {
        self.base = base
        self.make = make
        self.plain = make(base)
    }

    func client(for certificate: KubeCredential.ClientCertificate?) -> any HTTPClient {
        guard let certificate else { return plain }
        return withCertificate.withLock { current in
            if let current, current.0 == certificate { return current.1 }
            var tls = base
            tls.clientCertificate = .data(certificate.certificate)
            tls.clientKey = .data(certificate.key)
            let client = make(tls)
            current = (certificate, client)
            return client
        }
    }
}
