#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// The EC2 instance metadata service, IMDSv2 only (session tokens; v1 GETs are never sent).
///
/// The session token is fetched on first use, renewed before it expires (judged by the
/// injected clock) and fetched again once when a GET is answered 401. Each request has a short
/// timeout and a few retries, so a machine outside EC2 learns quickly that there is no IMDS.
public actor IMDSClient {
    /// `http://169.254.169.254` unless AWS_EC2_METADATA_SERVICE_ENDPOINT says otherwise.
    public nonisolated let endpoint: String
    private let http: any HTTPClient
    private let clock: any WallClock
    private let random: any RandomSource
    private let logger: Logger
    private let backoff: Backoff
    private let timeout: Duration

    /// Lifetime asked for each session token (the maximum, six hours).
    static let tokenTTLSeconds = 21_600
    /// A token is renewed this long before it expires.
    static let tokenRenewMargin: TimeInterval = 300

    private var token: String?
    private var tokenExpiry: Date = .distantPast
    /// Whether the service has answered a request with success in this process (so this is an
    /// EC2 instance, and a later failure is an outage rather than "not on EC2").
    private(set) var hasAnswered = false

    /// The default endpoint, or AWS_EC2_METADATA_SERVICE_ENDPOINT (trailing `/` removed).
    public static func endpoint(environment: [String: String]) -> String {
        var value = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"]?.trimmedWhitespace ?? ""
        while value.hasSuffix("/") { value.removeLast() }
        return value.isEmpty ? "http://169.254.169.254" : value
    }

    public init(endpoint: String = "http://169.254.169.254", http: any HTTPClient,
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.aws.imds"),
                backoff: Backoff = Backoff(initial: .milliseconds(200), multiplier: 2, cap: .seconds(1), maxRetries: 2),
                timeout: Duration = .seconds(2)) {
        var trimmed = endpoint
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.endpoint = trimmed
        self.http = http
        self.clock = clock
        self.random = random
        self.logger = logger
        self.backoff = backoff
        self.timeout = timeout
    }

    // MARK: Reads

    /// `meta-data/instance-id`
    public func instanceID() async throws -> String { try await required("meta-data/instance-id") }

    /// `meta-data/placement/availability-zone`
    public func availabilityZone() async throws -> String {
        try await required("meta-data/placement/availability-zone")
    }

    /// `meta-data/placement/region`; derived from the zone where IMDS lacks it.
    public func region() async throws -> String {
        if let region = try await get("meta-data/placement/region")?.trimmedWhitespace, !region.isEmpty { return region }
        let zone = try await availabilityZone()
        guard let region = Self.region(ofZone: zone) else {
            throw KubeIPError(.identity, "cannot tell the region from availability zone '\(zone)'")
        }
        return region
    }

    /// `eu-west-1a` → `eu-west-1`, `us-gov-west-1a` → `us-gov-west-1`, `us-west-2-lax-1a` → `us-west-2`:
    /// the parts up to the first number.
    static func region(ofZone zone: String) -> String? {
        var parts: [String] = []
        for part in zone.split(separator: "-") {
            let digits = part.prefix { $0.isNumber }
            if !digits.isEmpty {
                parts.append(String(digits))
                return parts.count >= 2 ? parts.joined(separator: "-") : nil
            }
            parts.append(String(part))
        }
        return nil
    }

    /// The id of the primary ENI: device number 0 on network card 0.
    ///
    /// On instances with several network cards, each card numbers its own devices from 0, so
    /// device-number alone does not single out the primary interface; `network-card` is absent
    /// on instances with one card, which counts as card 0.
    public func primaryInterfaceID() async throws -> String {
        let listing = try await required("meta-data/network/interfaces/macs/")
        let macs = listing.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { $0.trimmedWhitespace }
            .map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty }
        for mac in macs {
            let base = "meta-data/network/interfaces/macs/\(mac)/"
            guard let device = try await get(base + "device-number"), device.trimmedWhitespace == "0" else { continue }
            if let card = try await get(base + "network-card"), card.trimmedWhitespace != "0" { continue }
            return try await required(base + "interface-id")
        }
        throw KubeIPError(.identity,
                          "the instance metadata lists \(macs.count) network interface(s) but none with device-number 0 on network card 0")
    }

    /// The instance role's credentials; nil when the instance has no role.
    ///
    /// Throws `.unavailable` when the service times out or answers 5xx (after the retries), and
    /// `.identity` when it cannot be used otherwise (connection refused, token refused, …).
    public func instanceRoleCredentials() async throws -> AWSCredentials? {
        guard let listing = try await fetch("meta-data/iam/security-credentials/", transient: .unavailable)
            .map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        guard let role = listing.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map({ $0.trimmedWhitespace }).first(where: { !$0.isEmpty }) else { return nil }
        let path = "meta-data/iam/security-credentials/\(PercentEncoding.encode(role))"
        guard let body = try await fetch(path, transient: .unavailable) else { return nil }
        guard let credentials = CredentialDocument.credentials(from: body, source: "instance role \(role)") else {
            throw KubeIPError(.authentication,
                              "the instance metadata service returned no usable credentials for role '\(role)'")
        }
        return credentials
    }

    /// GET `/latest/<path>` as text; nil on 404.
    public func get(_ path: String) async throws -> String? {
        try await fetch(path).map { String(decoding: $0, as: UTF8.self) }
    }

    private func required(_ path: String) async throws -> String {
        guard let value = try await get(path)?.trimmedWhitespace, !value.isEmpty else {
            throw KubeIPError(.identity, "the instance metadata service has no \(path)", resource: "\(endpoint)/latest/\(path)")
        }
        return value
    }

    // MARK: Transport

    /// GET with the session token; on 401 the token is fetched again and the GET repeated once.
    /// `transient` is the code of a timeout or 5xx that outlasted the retries.
    private func fetch(_ path: String, transient: KubeIPError.Code = .identity) async throws -> [UInt8]? {
        var renewed = false
        while true {
            let token = try await sessionToken(transient: transient)
            let response = try await exchange(HTTPRequest(
                method: "GET", url: "\(endpoint)/latest/\(path)",
                headers: [HTTPHeader("X-aws-ec2-metadata-token", token)], timeout: timeout), label: path,
                transient: transient)
            switch response.status {
            case 200:
                return response.body
            case 404:
                return nil
            case 401 where !renewed:
                self.token = nil
                renewed = true
                continue
            default:
                throw KubeIPError(.identity, "the instance metadata service answered HTTP \(response.status) for \(path)",
                                  resource: "\(endpoint)/latest/\(path)")
            }
        }
    }

    private func sessionToken(transient: KubeIPError.Code) async throws -> String {
        if let token, clock.now.addingTimeInterval(Self.tokenRenewMargin) < tokenExpiry { return token }
        let requested = clock.now
        let response = try await exchange(HTTPRequest(
            method: "PUT", url: "\(endpoint)/latest/api/token",
            headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", String(Self.tokenTTLSeconds))],
            timeout: timeout), label: "api/token", transient: transient)
        guard response.status == 200 else {
            let hint = response.status == 403 ? " (is the metadata service disabled for this instance?)" : ""
            throw KubeIPError(.identity,
                              "the instance metadata service at \(endpoint) refused a session token: HTTP \(response.status)\(hint)")
        }
        let value = response.text.trimmedWhitespace
        guard !value.isEmpty else {
            throw KubeIPError(.identity, "the instance metadata service at \(endpoint) returned an empty session token")
        }
        let ttl = response.header("X-aws-ec2-metadata-token-ttl-seconds").flatMap { Int($0.trimmedWhitespace) }
            ?? Self.tokenTTLSeconds
        token = value
        tokenExpiry = requested.addingTimeInterval(TimeInterval(ttl))
        return value
    }

    /// One request with retries on transport errors and 5xx. When they outlast the retries, a
    /// timeout or a 5xx throws `transient`, anything else (refused, no route) `.identity`.
    private func exchange(_ request: HTTPRequest, label: String, transient: KubeIPError.Code) async throws -> HTTPResponse {
        let transport = LoggedHTTP(http: http, logger: logger)
        let hint = "IMDS did not answer within \(Self.seconds(timeout)); if this runs in a container, the IMDS hop limit may be 1"
        var timedOutOrFailing = false
        let response: HTTPResponse
        do {
            response = try await backoff.run(clock: clock, random: random, logger: logger,
                                             "instance metadata request failed, retrying", ["path": "\(label)"]) {
                let response = try await transport.send(request, "instance metadata request",
                                                        ["path": "\(label)"],
                                                        unreachable: { failure in
                    timedOutOrFailing = failure.isTimeout
                    return KubeIPError(.unavailable, failure.isTimeout ? "\(failure.reason) (\(hint))" : failure.reason)
                })
                if response.status >= 500 {
                    timedOutOrFailing = true
                    throw KubeIPError(.unavailable, "HTTP \(response.status)")
                }
                return response
            }
        } catch let error as KubeIPError where error.isRetryable {
            throw KubeIPError(timedOutOrFailing ? transient : .identity,
                              "cannot reach the EC2 instance metadata service at \(endpoint): \(error.message)")
        }
        if (200..<300).contains(response.status) { hasAnswered = true }
        return response
    }

    /// `2 s`, `500 ms`.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = Int((duration.seconds * 1000).rounded())
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
