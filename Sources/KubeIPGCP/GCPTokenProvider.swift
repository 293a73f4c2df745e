#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// OAuth 2 access tokens for the Compute API, cached and refreshed shortly before they expire.
///
/// Two sources: a service-account key file named by GOOGLE_APPLICATION_CREDENTIALS (an RS256
/// JWT exchanged at the key's token_uri), else the VM's default service account through the
/// metadata server. Tokens, keys and assertions are never logged nor put in an error.
public actor GCPTokenProvider {
    /// Where tokens come from.
    public enum Source: Sendable, Equatable {
        /// The VM's default service account (metadata server).
        case metadata
        /// A service-account key file.
        case serviceAccountKey(path: String)
    }

    public nonisolated let source: Source
    private let metadata: GCEMetadataClient
    private let http: any HTTPClient
    private let clock: any WallClock
    private let random: any RandomSource
    private let readFile: GCPFileReader
    private let logger: Logger
    private let backoff: Backoff
    private let refreshMargin: TimeInterval
    private let timeout: Duration

    private let cache: RefreshingCache<String>
    private var key: ServiceAccountKey?

    public init(source: Source, metadata: GCEMetadataClient, http: any HTTPClient,
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                readFile: @escaping GCPFileReader = gcpLocalFileReader,
                logger: Logger = Logger(label: "kubeip.gcp.auth"), backoff: Backoff = Backoff(maxRetries: 4),
                refreshMargin: Duration = .seconds(60), timeout: Duration = .seconds(10)) {
        self.source = source
        self.metadata = metadata
        self.http = http
        self.clock = clock
        self.random = random
        self.readFile = readFile
        self.logger = logger
        self.backoff = backoff
        self.refreshMargin = refreshMargin.seconds
        self.timeout = timeout
        self.cache = RefreshingCache(clock: clock)
    }

    /// The source the environment selects: GOOGLE_APPLICATION_CREDENTIALS when set, else the metadata server.
    public static func source(environment: [String: String]) -> Source {
        let path = environment["GOOGLE_APPLICATION_CREDENTIALS"]?.trimmedWhitespace ?? ""
        return path.isEmpty ? .metadata : .serviceAccountKey(path: path)
    }

    /// A valid access token, from the cache while it has more than the refresh margin left.
    public func token() async throws -> String {
        let margin = refreshMargin
        return try await cache.value {
            let fresh = try await self.fetch()
            return .init(fresh.token, freshUntil: fresh.expiry.addingTimeInterval(-margin))
        }
    }

    /// Forgets the cached token (the API answered 401): the next ``token()`` fetches a new one.
    public func invalidate() async {
        await cache.invalidate()
    }

    // MARK: Sources

    private func fetch() async throws -> (token: String, expiry: Date) {
        switch source {
        case .metadata: return try await fromMetadata()
        case .serviceAccountKey(let path): return try await fromKey(path)
        }
    }

    private struct TokenAnswer: Decodable {
        var access_token: String?
        var expires_in: Double?
        var token_type: String?
        var error: String?
        var error_description: String?
    }

    private func fromMetadata() async throws -> (token: String, expiry: Date) {
        let requested = clock.now
        let path = "instance/service-accounts/default/token"
        let body: [UInt8]?
        do {
            body = try await metadata.fetch(path, label: path)
        } catch let error as KubeIPError where error.code == .identity {
            // Reachable before (the identity came from it): worth retrying later.
            throw KubeIPError(.unavailable, "cannot get an access token: \(error.message)", resource: error.resource)
        }
        guard let body else {
            throw KubeIPError(.authentication,
                              "this VM has no service account: attach one with the compute scope, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file")
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(body)),
              let token = answer.access_token, !token.isEmpty else {
            throw KubeIPError(.authentication, "the GCE metadata server returned no access token for the default service account")
        }
        logger.debug("access token obtained", metadata: ["source": "metadata", "expires_in": "\(Int(answer.expires_in ?? 0))"])
        return (token, requested.addingTimeInterval(answer.expires_in ?? 300))
    }

    private func loadKey(_ path: String) throws -> ServiceAccountKey {
        if let key { return key }
        guard let text = readFile(path) else {
            throw KubeIPError(.authentication, "cannot read the GOOGLE_APPLICATION_CREDENTIALS file \(path)", resource: path)
        }
        let loaded = try ServiceAccountKey(path: path, text: text)
        key = loaded
        return loaded
    }

    private func fromKey(_ path: String) async throws -> (token: String, expiry: Date) {
        let key = try loadKey(path)
        let requested = clock.now
        let assertion = try key.assertion(issuedAt: requested)
        let body = PercentEncoding.form([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)])
        let request = HTTPRequest(method: "POST", url: key.tokenURI,
                                  headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")],
                                  body: Array(body.utf8), timeout: timeout)
        let transport = LoggedHTTP(http: http, logger: logger)
        let response = try await backoff.run(clock: clock, random: random, logger: logger,
                                             "token request failed, retrying", ["source": "service account key"]) {
            let response = try await transport.send(request, "token request", ["source": "service account key"]) {
                KubeIPError(.unavailable, "cannot reach the token endpoint \(urlWithoutQuery(key.tokenURI)): \($0.reason)")
            }
            if response.status == 429 || response.status >= 500 {
                throw KubeIPError(response.status == 429 ? .throttled : .unavailable,
                                  "the token endpoint \(urlWithoutQuery(key.tokenURI)) answered HTTP \(response.status)")
            }
            return response
        }
        let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(response.body))
        guard response.status == 200, let token = answer?.access_token, !token.isEmpty else {
            var why = "HTTP \(response.status)"
            if let code = answer?.error { why += ", \(code)" }
            if let text = answer?.error_description, !text.isEmpty { why += ": \(text)" }
            why = why.replacing(assertion, with: "<assertion>")
            throw KubeIPError(.authentication,
                              "the token endpoint refused the service account key in \(path) for \(key.clientEmail) (\(why))",
                              resource: path)
        }
        logger.debug("access token obtained",
                     metadata: ["source": "service account key", "expires_in": "\(Int(answer?.expires_in ?? 0))"])
        return (token, requested.addingTimeInterval(answer?.expires_in ?? 3600))
    }
}
