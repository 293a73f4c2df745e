#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import Logging

/// Credentials from an exec plugin (`client.authentication.k8s.io/v1` or `v1beta1`), as
/// `aws eks get-token` and `gke-gcloud-auth-plugin` provide them.
///
/// - The plugin runs with its `args`, its `env` over kubeip's environment, and
///   `KUBERNETES_EXEC_INFO` holding the ExecCredential request (`spec.interactive: false`, and
///   `spec.cluster` when the kubeconfig sets `provideClusterInfo`). Standard input is
///   `/dev/null`; it must finish within ``timeout``.
/// - Its answer (`status.token`, or `status.clientCertificateData` + `clientKeyData`) is cached
///   until shortly before `status.expirationTimestamp` (forever without one), and one refresh
///   serves every concurrent caller. After a 401 the plugin runs again.
/// - A failure names the plugin, the kubeconfig user, the exit status and the start of its
///   standard error; it never contains the plugin's standard output (which holds the token).
public struct ExecCredentialProvider: KubeCredentialProvider {
    public let config: ExecCredentialConfig
    /// Longest run allowed.
    public let timeout: Duration
    /// How long before expiry a credential is replaced (at most half its lifetime).
    public let refreshMargin: Duration
    private let environment: [String: String]
    private let clock: any WallClock
    private let logger: Logger
    private let cache: RefreshingCache<KubeCredential>

    public init(config: ExecCredentialConfig, environment: [String: String], clock: any WallClock = SystemClock(),
                logger: Logger = Logger(label: "kubeip.kube.credentials"), timeout: Duration = .seconds(60),
                refreshMargin: Duration = .seconds(30)) {
        self.config = config
        self.environment = environment
        self.clock = clock
        self.logger = logger
        self.timeout = timeout
        self.refreshMargin = refreshMargin
        self.cache = RefreshingCache(clock: clock)
    }

    public func credential() async throws -> KubeCredential {
        let run = self
        return try await cache.value(onStale: { error, _ in
            run.logger.warning("the exec credential plugin failed; using the current credential until it expires",
                               metadata: ["error": "\(error)"])
        }, load: { try await run.load() })
    }

    public func refused(_ credential: KubeCredential) async {
        await cache.invalidate(ifCurrent: credential)
    }

    // MARK: Running the plugin

    /// The `KUBERNETES_EXEC_INFO` document.
    var requestJSON: String {
        let request = ExecCredentialRequest(apiVersion: config.apiVersion.rawValue, spec: .init(
            interactive: false,
            cluster: config.cluster.map { cluster in
                .init(server: cluster.server, tlsServerName: cluster.tlsServerName,
                      insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ? true : nil,
                      certificateAuthorityData: cluster.certificateAuthorityData.map { Data($0).base64EncodedString() })
            }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(request)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private var name: String { "the exec credential plugin '\(config.command)' of \(config.origin)" }

    private func load() async throws -> RefreshingCache<KubeCredential>.Entry {
        var env = environment
        for variable in config.env { env[variable.name] = variable.value }
        env["KUBERNETES_EXEC_INFO"] = requestJSON
        let started = clock.now
        let outcome: ProcessOutcome
        do {
            outcome = try await ProcessRunner.run(command: config.command, arguments: config.args, environment: env,
                                                  timeout: timeout)
        } catch let error as ProcessRunner.SpawnError {
            var message = "cannot run \(name): \(error.description)"
            if error.notFound {
                message = "cannot run \(name): '\(config.command)' was not found in PATH"
                if let hint = config.installHint?.trimmedWhitespace, !hint.isEmpty { message += ". " + hint }
            }
            throw KubeIPError(.authentication, message, setting: "kubeconfig")
        }
        let stderr = Self.excerpt(outcome.stderr)
        let said = stderr.isEmpty ? "" : ": \(stderr)"
        switch outcome.ending {
        case .exited(0): break
        case .exited(let code):
            throw KubeIPError(.authentication, "\(name) failed (exit status \(code))\(said)", setting: "kubeconfig")
        case .signalled(let signal):
            throw KubeIPError(.authentication, "\(name) was killed by signal \(signal)\(said)", setting: "kubeconfig")
        case .timedOut:
            throw KubeIPError(.unavailable, "\(name) did not finish within \(timeout.shortDescription)\(said)",
                              setting: "kubeconfig")
        case .outputTooLarge:
            throw KubeIPError(.authentication, "\(name) wrote more output than an ExecCredential can hold",
                              setting: "kubeconfig")
        }
        let credential = try parse(outcome.stdout)
        logger.debug("exec credential plugin ran", metadata: [
            "command": "\(config.command)",
            "expires": "\(credential.expiry.map { RFC3339.format($0) } ?? "never")",
        ])
        guard let expiry = credential.expiry else { return .init(credential.value, freshUntil: nil) }
        let lifetime = max(0, expiry.timeIntervalSince(started))
        let margin = min(refreshMargin.seconds, lifetime / 2)
        return .init(credential.value, freshUntil: expiry.addingTimeInterval(-margin), usableUntil: expiry)
    }

    /// Reads the plugin's ExecCredential; errors never quote the output.
    func parse(_ output: [UInt8]) throws -> (value: KubeCredential, expiry: Date?) {
        func fail(_ why: String) -> KubeIPError {
            KubeIPError(.authentication, "\(name) returned \(why)", setting: "kubeconfig")
        }
        guard let answer = try? JSONDecoder().decode(ExecCredentialResponse.self, from: Data(output)) else {
            throw fail("output that is not an ExecCredential JSON document")
        }
        if let kind = answer.kind, kind != "ExecCredential" { throw fail("a \(kind), not an ExecCredential") }
        guard answer.apiVersion == config.apiVersion.rawValue else {
            throw fail("apiVersion \(answer.apiVersion ?? "(none)") but the kubeconfig asks for \(config.apiVersion.rawValue)")
        }
        guard let status = answer.status else { throw fail("an ExecCredential without a status") }
        var credential = KubeCredential()
        if let token = status.token, !token.isEmpty { credential.token = KubeSecret(token) }
        switch (status.clientCertificateData, status.clientKeyData) {
        case (let certificate?, let key?) where !certificate.isEmpty && !key.isEmpty:
            credential.clientCertificate = .init(certificate: Array(certificate.utf8), key: Array(key.utf8))
        case (nil, nil), ("", ""), (nil, ""), ("", nil):
            break
        default:
            throw fail("only one of clientCertificateData and clientKeyData")
        }
        guard credential.token != nil || credential.clientCertificate != nil else {
            throw fail("an ExecCredential with neither a token nor a client certificate")
        }
        var expiry: Date?
        if let text = status.expirationTimestamp, !text.isEmpty {
            guard let date = RFC3339.parse(text) else { throw fail("an expirationTimestamp that is not RFC 3339") }
            expiry = date
        }
        return (credential, expiry)
    }

    /// The start of the plugin's standard error on one line, at most 1 KiB.
    static func excerpt(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(1024), as: UTF8.self)
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmedWhitespace }.filter { !$0.isEmpty }
        var joined = lines.joined(separator: " / ")
        if bytes.count > 1024 { joined += " …" }
        return joined
    }
}

/// The ExecCredential kubeip sends in `KUBERNETES_EXEC_INFO`.
private struct ExecCredentialRequest: Encodable {
    var kind = "ExecCredential"
    var apiVersion: String
    var spec: Spec

    struct Spec: Encodable {
        var interactive: Bool
        var cluster: Cluster?
    }

    struct Cluster: Encodable {
        var server: String
        var tlsServerName: String?
        var insecureSkipTLSVerify: Bool?
        var certificateAuthorityData: String?

        enum CodingKeys: String, CodingKey {
            case server
            case tlsServerName = "tls-server-name"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case certificateAuthorityData = "certificate-authority-data"
        }
    }
}

/// The ExecCredential a plugin answers with.
private struct ExecCredentialResponse: Decodable {
    var kind: String?
    var apiVersion: String?
    var status: Status?

    struct Status: Decodable {
        var expirationTimestamp: String?
        var token: String?
        var clientCertificateData: String?
        var clientKeyData: String?
    }
}
