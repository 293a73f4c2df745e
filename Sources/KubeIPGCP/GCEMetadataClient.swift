#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// The Compute Engine metadata server (`/computeMetadata/v1/`, plain http).
///
/// Every request carries `Metadata-Flavor: Google`, and an answer counts only when it carries
/// the header back (anything else is not the metadata server). Each request has a short
/// timeout and a few retries, so a machine outside GCE learns quickly that there is none.
public struct GCEMetadataClient: Sendable {
    /// `http://metadata.google.internal` unless GCE_METADATA_HOST names another host[:port].
    public let endpoint: String
    let http: any HTTPClient
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    let backoff: Backoff
    let timeout: Duration

    /// The default host.
    public static let defaultHost = "metadata.google.internal"

    /// The endpoint from GCE_METADATA_HOST (a `host[:port]`), else the default host.
    /// Throws `.invalidSetting` naming GCE_METADATA_HOST when it is a URL or contains a path.
    public static func endpoint(environment: [String: String]) throws -> String {
        let host = environment["GCE_METADATA_HOST"]?.trimmedWhitespace ?? ""
        guard !host.isEmpty else { return "http://\(defaultHost)" }
        guard !host.contains("/"), !host.contains("?"), !host.contains(" ") else {
            throw KubeIPError.invalid("GCE_METADATA_HOST", "expected a host or host:port such as 169.254.169.254 or 127.0.0.1:8080, got '\(host)'")
        }
        return "http://\(host)"
    }

    public init(endpoint: String = "http://metadata.google.internal", http: any HTTPClient,
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.gcp.metadata"),
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

    /// `project/project-id`
    public func projectID() async throws -> String { try await required("project/project-id") }

    /// `instance/id` (numeric).
    public func instanceID() async throws -> String { try await required("instance/id") }

    /// `instance/name`
    public func instanceName() async throws -> String { try await required("instance/name") }

    /// The zone name from `instance/zone` (`projects/<number>/zones/<zone>`).
    public func zone() async throws -> String {
        try await location().zone
    }

    /// The zone name and the project number of `instance/zone` (`projects/<number>/zones/<zone>`);
    /// the number is nil when the answer has no `projects/<number>/` part.
    func location() async throws -> (zone: String, projectNumber: String?) {
        let value = try await required("instance/zone")
        let parts = value.split(separator: "/").map(String.init)
        guard let zone = parts.last, !zone.isEmpty else {
            throw KubeIPError(.identity, "the metadata server answered instance/zone with '\(value)'")
        }
        let number = parts.count >= 4 && parts[0] == "projects" ? parts[1] : nil
        return (zone, number)
    }

    /// nic0's current external IPv4 address; nil when it has none.
    public func externalIP() async throws -> String? {
        guard let value = try await get("instance/network-interfaces/0/access-configs/0/external-ip")?.trimmedWhitespace,
              !value.isEmpty else { return nil }
        return value
    }

    /// `europe-west1-b` → `europe-west1`: the zone without its last `-x` part.
    public static func region(ofZone zone: String) -> String? {
        guard let dash = zone.lastIndex(of: "-"), dash != zone.startIndex, zone[zone.index(after: dash)...].count > 0 else {
            return nil
        }
        return String(zone[..<dash])
    }

    /// GET `/computeMetadata/v1/<path>` as text; nil on 404.
    public func get(_ path: String) async throws -> String? {
        try await fetch(path, label: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// GET `/computeMetadata/v1/<path>` as bytes; nil on 404. `label` names it in logs and errors.
    func fetch(_ path: String, label: String) async throws -> [UInt8]? {
        let url = "\(endpoint)/computeMetadata/v1/\(path)"
        let request = HTTPRequest(method: "GET", url: url, headers: [HTTPHeader("Metadata-Flavor", "Google")],
                                  timeout: timeout)
        let transport = LoggedHTTP(http: http, logger: logger)
        let response: HTTPResponse
        do {
            response = try await backoff.run(clock: clock, random: random, logger: logger,
                                             "metadata request failed, retrying", ["path": "\(label)"]) {
                let response = try await transport.send(request, "metadata request", ["path": "\(label)"]) {
                    KubeIPError(.unavailable, $0.reason)
                }
                if response.status >= 500 { throw KubeIPError(.unavailable, "HTTP \(response.status)") }
                return response
            }
        } catch let error as KubeIPError where error.isRetryable {
            throw KubeIPError(.identity, "cannot reach the GCE metadata server at \(endpoint): \(error.message)",
                              resource: urlWithoutQuery(url))
        }
        guard response.header("Metadata-Flavor")?.trimmedWhitespace == "Google" else {
            throw KubeIPError(.identity, "\(endpoint) answered \(label) without 'Metadata-Flavor: Google': it is not the GCE metadata server",
                              resource: urlWithoutQuery(url))
        }
        switch response.status {
        case 200: return response.body
        case 404: return nil
        default:
            throw KubeIPError(.identity, "the GCE metadata server answered HTTP \(response.status) for \(label)",
                              resource: urlWithoutQuery(url))
        }
    }

    private func required(_ path: String) async throws -> String {
        guard let value = try await get(path)?.trimmedWhitespace, !value.isEmpty else {
            throw KubeIPError(.identity, "the GCE metadata server has no \(path)",
                              resource: "\(endpoint)/computeMetadata/v1/\(path)")
        }
        return value
    }
}
