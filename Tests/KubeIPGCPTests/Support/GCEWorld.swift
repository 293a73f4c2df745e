import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
import KubeIPTestSupport
import Logging
@testable import KubeIPGCP

/// The Compute Engine double, a manual clock, and kubeip's GCP adapter for any of its VMs.
struct GCEWorld {
    let double: ComputeEngineDouble
    let clock: ManualClock
    let logs = LogCapture()

    init(_ configure: (inout ComputeEngineDouble.Configuration) -> Void = { _ in }) {
        var configuration = ComputeEngineDouble.Configuration()
        configure(&configuration)
        clock = ManualClock(autoAdvance: true)
        double = ComputeEngineDouble(configuration: configuration, clock: clock)
    }

    /// The adapter as `vm` runs it (its HTTP goes through `interpose` first, when given, then
    /// `answer`, which may answer in the double's stead).
    func adapter(_ vm: String, filter: String = "labels.kubeip=reserved", orderBy: String? = nil,
                 families: [IPFamily] = [.ipv4], project: String? = nil, region: String? = nil,
                 environment: [String: String] = [:],
                 readFile: @escaping GCPFileReader = { _ in nil },
                 interpose: (@Sendable (HTTPRequest) async -> Void)? = nil,
                 answer: Interposer.Answer? = nil) throws -> CloudAdapter {
        let client = double.client(for: vm)
        let http: any HTTPClient = interpose == nil && answer == nil
            ? client : Interposer(inner: client, before: interpose ?? { _ in }, answer: answer)
        return try GCPCloud.make(filter: filter, orderBy: orderBy, project: project, region: region, families: families,
                                 environment: environment, http: http, clock: clock, random: FixedRandom(),
                                 readFile: readFile, logger: logs.logger(vm))
    }

    func engine(_ vm: String, families: [IPFamily] = [.ipv4], retryAttempts: Int = 0, filter: String = "labels.kubeip=reserved",
                orderBy: String? = nil, project: String? = nil, region: String? = nil,
                interpose: (@Sendable (HTTPRequest) async -> Void)? = nil,
                answer: Interposer.Answer? = nil) throws -> AddressEngine {
        let cloud = try adapter(vm, filter: filter, orderBy: orderBy, families: families, project: project, region: region,
                                interpose: interpose, answer: answer)
        let ordering = try orderBy.map { try AddressOrdering(parsing: $0) }
        return AddressEngine(cloud: cloud, settings: EngineSettings(families: families, ordering: ordering,
                                                                    retryAttempts: retryAttempts),
                             clock: clock, random: FixedRandom(), logger: logs.logger("engine-\(vm)"))
    }

    /// Compute method ids of the requests, in order (transport failures included); `?` for a
    /// request the double routed to no method.
    func computeCalls(from vm: String? = nil) async -> [String] {
        await double.requests.filter { $0.service == .compute && (vm == nil || $0.instance == vm) }.map { $0.methodID ?? "?" }
    }

    func selfLink(_ vm: String) async -> String { await double.instance(vm)!.selfLink }

    /// Someone else (off the cloud, through the API) deletes `vm`'s IPv4 access config, and
    /// the operation completes.
    func removeAccessConfig(of vm: String, named name: String = "External NAT") async throws {
        let token = await double.issueToken()
        let zone = await double.instance(vm)!.zone
        let url = "https://compute.googleapis.com/compute/v1/projects/kubeip-sim/zones/\(zone)/instances/\(vm)/deleteAccessConfig"
            + "?accessConfig=\(name.replacingOccurrences(of: " ", with: "%20"))&networkInterface=nic0"
        let response = try await double.offCloudClient().send(HTTPRequest(
            method: "POST", url: url, headers: [HTTPHeader("Authorization", "Bearer \(token)")], timeout: .seconds(5)))
        precondition(response.status == 200, "deleteAccessConfig answered \(response.status)")
        await double.settle()
    }
}

/// Runs `before` on every request, then lets `answer` answer it or forwards it: lets a test
/// change the world at a precise step, or stand in for a method the double does not serve.
struct Interposer: HTTPClient {
    /// A response in the double's stead, or nil to forward. It gets the double's client, to
    /// forward and amend the answer.
    typealias Answer = @Sendable (HTTPRequest, GCEDoubleClient) async throws -> HTTPResponse?

    let inner: GCEDoubleClient
    let before: @Sendable (HTTPRequest) async -> Void
    var answer: Answer?

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        await before(request)
        if let answer, let response = try await answer(request, inner) { return response }
        return try await inner.send(request)
    }
}

/// Records the requests a test answered itself.
final class Answered: @unchecked Sendable {
    private let lock = NSLock()
    private var log: [HTTPRequest] = []
    var requests: [HTTPRequest] { lock.withLock { log } }
    func record(_ request: HTTPRequest) { lock.withLock { log.append(request) } }
}

/// Runs `action` the first time a request whose URL contains `marker` is about to be sent.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    let marker: String
    let action: @Sendable () async -> Void

    init(_ marker: String, _ action: @escaping @Sendable () async -> Void) {
        self.marker = marker
        self.action = action
    }

    func callAsFunction(_ request: HTTPRequest) async {
        guard request.url.contains(marker) else { return }
        let first = lock.withLock { () -> Bool in
            defer { fired = true }
            return !fired
        }
        if first { await action() }
    }
}

/// Holds every arriving task until `parties` have arrived, then lets them all go.
actor Barrier {
    private let parties: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var open = false

    init(parties: Int) { self.parties = parties }

    func arrive() async {
        guard !open else { return }
        if waiting.count + 1 >= parties {
            open = true
            for continuation in waiting { continuation.resume() }
            waiting.removeAll()
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}
