import KubeIPCore
import KubeIPSimulator
import Synchronization
import Testing

/// Records what the daemon tells its service manager, in order.
final class RecordingNotifier: ServiceNotifier {
    private let log = Mutex<[String]>([])
    let watchdogInterval: Duration?
    init(watchdog: Duration? = nil) { watchdogInterval = watchdog }
    func ready(status: String) { log.withLock { $0.append("READY \(status)") } }
    func status(_ text: String) { log.withLock { $0.append("STATUS \(text)") } }
    func reloading() { log.withLock { $0.append("RELOADING") } }
    func stopping(status: String) { log.withLock { $0.append("STOPPING \(status)") } }
    func watchdog() { log.withLock { $0.append("WATCHDOG") } }
    var messages: [String] { log.withLock { $0 } }
    /// True once `count` messages start with `prefix`; false after about 20 s of real time.
    func waitFor(_ prefix: String, count: Int = 1) async -> Bool {
        for _ in 0..<20_000 {
            if messages.filter({ $0.hasPrefix(prefix) }).count >= count { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }
}

struct FixedShutdown: ShutdownDetector {
    let answer: Bool
    func isSystemShuttingDown() async -> Bool { answer }
}

@Suite struct HostDaemonTests {
    struct Fixture {
        let cloud = SimulatedCloud()
        let clock = ManualClock()
        let notifier: RecordingNotifier
        let me: InstanceIdentity
        let engine: AddressEngine

        init(addresses: Int = 2, watchdog: Duration? = nil) async {
            for i in 0..<addresses { await cloud.allocateAddress("198.51.100.\(i + 1)", tags: ["kubeip": "reserved"]) }
            me = await cloud.launchInstance()
            notifier = RecordingNotifier(watchdog: watchdog)
            engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: ["kubeip": ["reserved"]]),
                                   settings: EngineSettings(retryInterval: .seconds(10), reconcileInterval: .seconds(300)),
                                   clock: clock, random: FixedRandom())
        }

        func daemon(policy: ReleasePolicy, shuttingDown: Bool = false,
                    reload: @escaping @Sendable () async throws -> DaemonConfiguration = { throw KubeIPError(.io, "no reload") })
            -> HostDaemon {
            HostDaemon(engine: engine, notifier: notifier, clock: clock, releasePolicy: policy,
                       shutdown: FixedShutdown(answer: shuttingDown), reload: reload)
        }
    }

    @Test func readyOnlyAfterTheAddressIsAttachedThenStopKeepsIt() async throws {
        let f = await Fixture()
        let run = Task { try await f.daemon(policy: .never).run() }
        #expect(await f.notifier.waitFor("READY"))
        #expect(await f.cloud.addresses(on: f.me.interfaceID).count == 1)
        #expect(f.notifier.messages.first?.hasPrefix("READY holding 198.51.100.") == true)
        f.engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: false))
        #expect(await f.cloud.addresses(on: f.me.interfaceID).count == 1)
        #expect(f.notifier.messages.last?.hasPrefix("STOPPING stopping, keeping 198.51.100.") == true)
    }

    @Test func releasePolicyTrueGivesTheAddressBack() async throws {
        let f = await Fixture()
        let run = Task { try await f.daemon(policy: .always).run() }
        #expect(await f.notifier.waitFor("READY"))
        f.engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: true))
        #expect(await f.cloud.addresses(on: f.me.interfaceID).isEmpty)
    }

    @Test(arguments: [false, true])
    func shutdownPolicyReleasesOnlyWhenTheMachineGoesDown(shuttingDown: Bool) async throws {
        let f = await Fixture()
        let run = Task { try await f.daemon(policy: .shutdown, shuttingDown: shuttingDown).run() }
        #expect(await f.notifier.waitFor("READY"))
        f.engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: shuttingDown))
        #expect(await f.cloud.addresses(on: f.me.interfaceID).count == (shuttingDown ? 0 : 1))
    }

    @Test func terminateWhileWaitingForAFreeAddressStopsPromptly() async throws {
        let f = await Fixture(addresses: 0)
        let run = Task { try await f.daemon(policy: .always).run() }
        #expect(await f.clock.waitForSleepers(1))
        f.engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: true))
        #expect(!f.notifier.messages.contains { $0.hasPrefix("READY") })
    }

    @Test func holdChecksReclaimAndReportStatus() async throws {
        let f = await Fixture()
        let run = Task { try await f.daemon(policy: .never).run() }
        #expect(await f.notifier.waitFor("READY"))
        let held = try #require(await f.cloud.addresses(on: f.me.interfaceID).first)
        try await f.cloud.disassociate(associationID: try #require(held.holder?.associationID))
        #expect(await f.clock.advanceToNextSleeper())
        #expect(await f.notifier.waitFor("STATUS holding"))
        #expect(await f.cloud.addresses(on: f.me.interfaceID).count == 1)
        f.engine.requests.requestStop()
        _ = try await run.value
    }

    @Test func reloadBracketsWithReloadingAndReady() async throws {
        let f = await Fixture()
        let adapter = f.cloud.adapter(for: f.me.instanceID, filter: ["kubeip": ["reserved"]])
        let run = Task {
            try await f.daemon(policy: .never, reload: {
                DaemonConfiguration(cloud: adapter, settings: EngineSettings(), releasePolicy: .always)
            }).run()
        }
        #expect(await f.notifier.waitFor("READY"))
        let before = await f.cloud.addresses(on: f.me.interfaceID)
        f.engine.requests.requestReload()
        #expect(await f.notifier.waitFor("READY", count: 2))
        #expect(await f.cloud.addresses(on: f.me.interfaceID) == before)
        let messages = f.notifier.messages
        let reloading = try #require(messages.firstIndex(of: "RELOADING"))
        #expect(messages[(reloading + 1)...].contains { $0.hasPrefix("READY") })
        f.engine.requests.requestStop()
        // The reloaded policy (release) applies.
        #expect(try await run.value == .stopped(released: true))
    }

    @Test func failedReloadKeepsTheRunningConfiguration() async throws {
        let f = await Fixture()
        let run = Task { try await f.daemon(policy: .never).run() }
        #expect(await f.notifier.waitFor("READY"))
        f.engine.requests.requestReload()
        #expect(await f.notifier.waitFor("READY", count: 2))
        #expect(f.notifier.messages.contains { $0.hasPrefix("STATUS reload failed") })
        f.engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: false))
    }

    @Test func watchdogPingsAtHalfTheInterval() async throws {
        let f = await Fixture(addresses: 0, watchdog: .seconds(20))
        let run = Task { try await f.daemon(policy: .never).run() }
        #expect(await f.notifier.waitFor("WATCHDOG"))
        #expect(await f.clock.waitForSleepers(2))
        f.clock.advance(by: .seconds(10))
        #expect(await f.notifier.waitFor("WATCHDOG", count: 2))
        f.engine.requests.requestStop()
        _ = try await run.value
    }

    @Test func fatalErrorsStopWithAReason() async throws {
        let f = await Fixture()
        await f.cloud.inject(KubeIPError(.permissionDenied, "AWS refused ec2:AssociateAddress", resource: "ec2:AssociateAddress"),
                             into: .associate)
        let error = await #expect(throws: KubeIPError.self) {
            try await f.daemon(policy: .never).run()
        }
        #expect(error?.exitCode == 77)
        #expect(f.notifier.messages.last?.contains("ec2:AssociateAddress") == true)
    }
}
