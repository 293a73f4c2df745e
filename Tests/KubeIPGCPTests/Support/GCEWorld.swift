import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
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

    /// The adapter as `vm` runs it (its HTTP goes through `interpose` first, when given).
    func adapter(_ vm: String, filter: String = "labels.kubeip=reserved", orderBy: String? = nil,
                 families: [IPFamily] = [.ipv4], environment: [String: String] = [:],
                 readFile: @escaping GCPFileReader = { _ in nil },
                 interpose: (@Sendable (HTTPRequest) async -> Void)? = nil) throws -> CloudAdapter {
        let client = double.client(for: vm)
        let http: any HTTPClient = interpose.map { Interposer(inner: client, before: $0) } ?? client
        return try GCPCloud.make(filter: filter, orderBy: orderBy, project: nil, region: nil, families: families,
                                 environment: environment, http: http, clock: clock, random: FixedRandom(),
                                 readFile: readFile, logger: logs.logger(vm))
    }

    func engine(_ vm: String, families: [IPFamily] = [.ipv4], retryAttempts: Int = 0, filter: String = "labels.kubeip=reserved",
                orderBy: String? = nil, interpose: (@Sendable (HTTPRequest) async -> Void)? = nil) throws -> AddressEngine {
        let cloud = try adapter(vm, filter: filter, orderBy: orderBy, families: families, interpose: interpose)
        let ordering = try orderBy.map { try AddressOrdering(parsing: $0) }
        return AddressEngine(cloud: cloud, settings: EngineSettings(families: families, ordering: ordering,
                                                                    retryAttempts: retryAttempts),
                             clock: clock, random: FixedRandom(), logger: logs.logger("engine-\(vm)"))
    }

    /// Compute method ids of the requests, in order (transport failures included).
    func computeCalls(from vm: String? = nil) async -> [String] {
        await double.requests.filter { $0.service == .compute && (vm == nil || $0.instance == vm) }.map { $0.methodID ?? "?" }
    }

    func selfLink(_ vm: String) async -> String { await double.instance(vm)!.selfLink }
}

/// Runs `before` on every request, then forwards it: lets a test change the world at a precise step.
struct Interposer: HTTPClient {
    let inner: GCEDoubleClient
    let before: @Sendable (HTTPRequest) async -> Void

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        await before(request)
        return try await inner.send(request)
    }
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
