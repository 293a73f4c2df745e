#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// JSON coding shared by the GCP clients (FoundationEssentials).
enum ComputeJSON {
    static var decoder: JSONDecoder { JSONDecoder() }
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension JSONDecoder {
    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, from: Data(bytes))
    }
}

/// The Compute Engine v1 REST API, the few methods kubeip needs.
///
/// Every call carries a bearer token from ``GCPTokenProvider``. 429 and 5xx answers (and
/// transport failures) are retried with the backoff, waiting what `Retry-After` asks when the
/// answer carries it (up to ``retryAfterCap``); 401 fetches a new token once. Mutations carry a
/// `requestId`, the same on every retry, so that the API runs a retried mutation whose first
/// answer was lost only once; they return once their zonal operation is DONE, throwing its error.
public struct ComputeClient: Sendable {
    /// The public endpoint.
    public static let defaultBaseURL = "https://compute.googleapis.com/compute/v1/"
    /// Longest pause a `Retry-After` header may impose.
    public static let retryAfterCap: Duration = .seconds(60)

    /// The API root, ending in `/compute/v1/`.
    public let baseURL: String
    let tokens: GCPTokenProvider
    let http: any HTTPClient
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    let backoff: Backoff
    let timeout: Duration
    /// Longest wait for an operation to finish.
    let operationDeadline: Duration
    /// Timeout of one zoneOperations.wait (the API holds it up to two minutes).
    let waitTimeout: Duration

    /// The API root from CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE (a missing trailing `/` is
    /// added), else ``defaultBaseURL``. Throws `.invalidSetting` naming the variable when it is
    /// not an http(s) URL ending in `/compute/v1/`.
    public static func baseURL(environment: [String: String]) throws -> String {
        let name = "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"
        var value = environment[name]?.trimmedWhitespace ?? ""
        guard !value.isEmpty else { return defaultBaseURL }
        if !value.hasSuffix("/") { value += "/" }
        let lowered = value.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), !value.contains("?"),
              value.hasSuffix("/compute/v1/"), value.split(separator: "/").count >= 4 else {
            throw KubeIPError.invalid(name, "expected an http(s) URL ending in /compute/v1/, such as https://compute.googleapis.com/compute/v1/, got '\(value)'")
        }
        return value
    }

    public init(baseURL: String = ComputeClient.defaultBaseURL, tokens: GCPTokenProvider, http: any HTTPClient,
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.gcp.compute"), backoff: Backoff = Backoff(),
                timeout: Duration = .seconds(20), operationDeadline: Duration = .seconds(180),
                waitTimeout: Duration = .seconds(130)) {
        self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
        self.tokens = tokens
        self.http = http
        self.clock = clock
        self.random = random
        self.logger = logger
        self.backoff = backoff
        self.timeout = timeout
        self.operationDeadline = operationDeadline
        self.waitTimeout = waitTimeout
    }

    /// The same client with another retry policy (the connectivity gap of a swap).
    func with(backoff: Backoff) -> ComputeClient {
        ComputeClient(baseURL: baseURL, tokens: tokens, http: http, clock: clock, random: random, logger: logger,
                      backoff: backoff, timeout: timeout, operationDeadline: operationDeadline, waitTimeout: waitTimeout)
    }

    // MARK: Paths

    static func regionPath(_ project: String, _ region: String) -> String {
        "projects/\(PercentEncoding.encode(project))/regions/\(PercentEncoding.encode(region))"
    }

    static func instancePath(_ project: String, _ zone: String, _ instance: String) -> String {
        "projects/\(PercentEncoding.encode(project))/zones/\(PercentEncoding.encode(zone))/instances/\(PercentEncoding.encode(instance))"
    }

    // MARK: Reads

    /// addresses.list: every page, with `filter` and `orderBy` passed exactly.
    /// A 400 about the filter or the order throws `.invalidSetting` naming `filter` / `order-by`.
    public func listAddresses(project: String, region: String, filter: String?, orderBy: String?) async throws -> [Compute.Address] {
        let path = Self.regionPath(project, region) + "/addresses"
        let call = ComputeError.Call(permission: "compute.addresses.list", resource: "projects/\(project)/regions/\(region)/addresses",
                                     namesSettings: true)
        var items: [Compute.Address] = []
        var pageToken: String?
        var seen: Set<String> = []
        repeat {
            var query: [(String, String)] = []
            if let filter, !filter.isEmpty { query.append(("filter", filter)) }
            if let orderBy, !orderBy.isEmpty { query.append(("orderBy", orderBy)) }
            if let pageToken { query.append(("pageToken", pageToken)) }
            let page: Compute.AddressList = try await send("GET", path, query: query, call: call)
            items += page.items ?? []
            pageToken = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
            if let token = pageToken, !seen.insert(token).inserted {
                throw KubeIPError(.cloudAPI, "Compute Engine repeated page token while listing addresses", resource: call.permission)
            }
        } while pageToken != nil
        return items
    }

    /// addresses.get
    public func getAddress(project: String, region: String, name: String) async throws -> Compute.Address {
        let path = Self.regionPath(project, region) + "/addresses/\(PercentEncoding.encode(name))"
        return try await send("GET", path, call: .init(permission: "compute.addresses.get",
                                                        resource: "projects/\(project)/regions/\(region)/addresses/\(name)"))
    }

    /// instances.get
    public func getInstance(project: String, zone: String, name: String) async throws -> Compute.Instance {
        try await send("GET", Self.instancePath(project, zone, name),
                       call: .init(permission: "compute.instances.get", resource: "projects/\(project)/zones/\(zone)/instances/\(name)"))
    }

    /// subnetworks.get (`compute.subnetworks.get`).
    public func getSubnetwork(project: String, region: String, name: String) async throws -> Compute.Subnetwork {
        let path = Self.regionPath(project, region) + "/subnetworks/\(PercentEncoding.encode(name))"
        return try await send("GET", path, call: .init(permission: "compute.subnetworks.get",
                                                        resource: "projects/\(project)/regions/\(region)/subnetworks/\(name)"))
    }

    /// addresses.testIamPermissions: which of `permissions` the caller has on the address
    /// (it needs no permission of its own; errors name the method).
    public func testAddressPermissions(project: String, region: String, name: String,
                                       permissions: [String]) async throws -> [String] {
        let path = Self.regionPath(project, region) + "/addresses/\(PercentEncoding.encode(name))/testIamPermissions"
        let answer: Compute.TestPermissionsResponse = try await send(
            "POST", path, query: [], body: Compute.TestPermissionsRequest(permissions: permissions),
            call: .init(permission: "compute.addresses.testIamPermissions",
                        resource: "projects/\(project)/regions/\(region)/addresses/\(name)"))
        return answer.permissions ?? []
    }

    // MARK: Mutations

    /// instances.deleteAccessConfig, waited for.
    @discardableResult
    public func deleteAccessConfig(project: String, zone: String, instance: String, accessConfig: String,
                                   networkInterface: String = "nic0") async throws -> Compute.Operation {
        try await mutate("POST", Self.instancePath(project, zone, instance) + "/deleteAccessConfig",
                         query: [("accessConfig", accessConfig), ("networkInterface", networkInterface)],
                         body: Optional<Compute.AccessConfig>.none, project: project, zone: zone,
                         call: .init(permission: "compute.instances.deleteAccessConfig",
                                     resource: "projects/\(project)/zones/\(zone)/instances/\(instance)"),
                         address: nil)
    }

    /// instances.addAccessConfig, waited for. `config.natIP` nil asks for an ephemeral address.
    /// An address in use elsewhere throws `.conflict`.
    @discardableResult
    public func addAccessConfig(project: String, zone: String, instance: String, networkInterface: String = "nic0",
                                config: Compute.AccessConfig) async throws -> Compute.Operation {
        try await mutate("POST", Self.instancePath(project, zone, instance) + "/addAccessConfig",
                         query: [("networkInterface", networkInterface)], body: config, project: project, zone: zone,
                         call: .init(permission: "compute.instances.addAccessConfig",
                                     resource: "projects/\(project)/zones/\(zone)/instances/\(instance)"),
                         address: config.natIP)
    }

    /// instances.updateNetworkInterface (PATCH), waited for; `body` must carry the current
    /// fingerprint. A stale one throws ``GCPStaleFingerprint``; an address in use elsewhere `.conflict`.
    @discardableResult
    public func updateNetworkInterface(project: String, zone: String, instance: String, networkInterface: String = "nic0",
                                       body: Compute.NetworkInterface) async throws -> Compute.Operation {
        try await mutate("PATCH", Self.instancePath(project, zone, instance) + "/updateNetworkInterface",
                         query: [("networkInterface", networkInterface)], body: body, project: project, zone: zone,
                         call: .init(permission: "compute.instances.updateNetworkInterface",
                                     resource: "projects/\(project)/zones/\(zone)/instances/\(instance)"),
                         address: body.ipv6AccessConfigs?.first?.externalIpv6)
    }

    /// zoneOperations.wait until the operation is DONE, within the operation deadline.
    public func wait(for operation: Compute.Operation, project: String, zone: String) async throws -> Compute.Operation {
        var current = operation
        let deadline = clock.now.addingTimeInterval(operationDeadline.seconds)
        while !current.isDone {
            guard let name = current.name, !name.isEmpty else {
                throw KubeIPError(.cloudAPI, "Compute Engine returned an operation without a name", resource: "compute.zoneOperations.get")
            }
            if clock.now >= deadline {
                throw KubeIPError(.unavailable,
                                  "operation \(name) was still \(current.status ?? "running") after \(operationDeadline.shortDescription)",
                                  resource: "projects/\(project)/zones/\(zone)/operations/\(name)")
            }
            let path = "projects/\(PercentEncoding.encode(project))/zones/\(PercentEncoding.encode(zone))/operations/\(PercentEncoding.encode(name))/wait"
            let before = clock.now
            current = try await send("POST", path, call: .init(permission: "compute.zoneOperations.get",
                                                               resource: "projects/\(project)/zones/\(zone)/operations/\(name)"),
                                     timeout: waitTimeout)
            // A server that answers at once (not holding the request) must not make this a busy loop.
            if !current.isDone && clock.now.timeIntervalSince(before) < 1 { try await clock.sleep(for: .seconds(1)) }
        }
        return current
    }

    private func mutate<Body: Encodable & Sendable>(_ method: String, _ path: String, query: [(String, String)], body: Body?,
                                                    project: String, zone: String, call: ComputeError.Call,
                                                    address: String?) async throws -> Compute.Operation {
        let requestID = UUID().uuidString.lowercased()
        let started: Compute.Operation = try await send(method, path, query: query + [("requestId", requestID)], body: body,
                                                        call: call)
        let finished = try await wait(for: started, project: project, zone: zone)
        if let failure = ComputeError.failure(of: finished, call: call, address: address) { throw failure }
        return finished
    }

    // MARK: Transport

    private func send<T: Decodable>(_ method: String, _ path: String, query: [(String, String)] = [],
                                    call: ComputeError.Call, timeout: Duration? = nil) async throws -> T {
        try await send(method, path, query: query, body: Optional<Compute.AccessConfig>.none, call: call, timeout: timeout)
    }

    private func send<T: Decodable, Body: Encodable & Sendable>(_ method: String, _ path: String, query: [(String, String)],
                                                                body: Body?, call: ComputeError.Call,
                                                                timeout: Duration? = nil) async throws -> T {
        var url = baseURL + path
        if !query.isEmpty { url += "?" + PercentEncoding.form(query) }
        var headers = [HTTPHeader("Accept", "application/json")]
        var bytes: [UInt8] = []
        if let body {
            bytes = Array(try ComputeJSON.encoder.encode(body))
            headers.append(HTTPHeader("Content-Type", "application/json"))
        }
        let transport = LoggedHTTP(http: http, logger: logger)
        var attempt = 0
        var refreshed = false
        while true {
            let token = try await tokens.token()
            let request = HTTPRequest(method: method, url: url, headers: headers + [HTTPHeader("Authorization", "Bearer \(token)")],
                                      body: bytes, timeout: timeout ?? self.timeout)
            let failure: KubeIPError
            var retryAfter: Duration?
            do {
                let response = try await transport.send(request, "compute call", ["permission": "\(call.permission)"]) { error in
                    KubeIPError(.unavailable, "cannot reach Compute Engine at \(baseURL): \(error.description)",
                                resource: call.permission)
                }
                if (200..<300).contains(response.status) {
                    do {
                        return try ComputeJSON.decoder.decode(T.self, from: response.body)
                    } catch {
                        throw KubeIPError(.cloudAPI, "Compute Engine answered \(call.permission) with JSON kubeip cannot read",
                                          resource: call.permission)
                    }
                }
                let envelope = ComputeError.envelope(response.body)
                if response.status == 401 && !refreshed {
                    refreshed = true
                    await tokens.invalidate()
                    continue
                }
                if response.status == 412 { throw GCPStaleFingerprint(resource: call.resource) }
                if response.status == 400 && ComputeError.isNotReady(envelope) {
                    failure = KubeIPError(.unavailable, "\(call.resource) is busy with another operation", resource: call.permission)
                } else {
                    failure = ComputeError.map(status: response.status, body: envelope, call: call)
                }
                retryAfter = response.header("Retry-After").flatMap { Int($0.trimmedWhitespace) }.map { .seconds(max(0, $0)) }
            } catch let error as KubeIPError where error.isRetryable {
                failure = error
            }
            guard failure.isRetryable, attempt < backoff.maxRetries else { throw failure }
            let pause = min(retryAfter ?? backoff.delay(attempt: attempt, random: random), Self.retryAfterCap)
            logger.debug("compute call failed, retrying", metadata: [
                "permission": "\(call.permission)", "error": "\(failure.code)", "retry_in_ms": "\(Int(pause.seconds * 1000))",
            ])
            try await clock.sleep(for: pause)
            attempt += 1
        }
    }
}
