import KubeIPCore
import KubeIPSystemd
import Logging
import Synchronization
import Testing

/// Collects log messages so tests can see that failures were reported.
final class RecordingLogHandler: LogHandler, Sendable {
    private let messages = Mutex<[(Logger.Level, String)]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        messages.withLock { $0.append((event.level, "\(event.message) \(event.metadata ?? [:])")) }
    }

    var warnings: [String] { messages.withLock { $0.filter { $0.0 == .warning }.map(\.1) } }

    var logger: Logger { Logger(label: "test") { _ in self } }
}

private struct BusDown: Error {}

@Suite struct SystemStateShutdownDetectorTests {
    @Test(arguments: ["running", "degraded", "starting", "initializing", "maintenance", "offline", ""])
    func otherStatesAreNotShutdown(state: String) async {
        let detector = SystemStateShutdownDetector(systemState: { state })
        #expect(await !detector.isSystemShuttingDown())
    }

    @Test func stoppingIsShutdown() async {
        let detector = SystemStateShutdownDetector(systemState: { "stopping" },
                                                   shutdownJobQueued: { Issue.record("not needed"); return false })
        #expect(await detector.isSystemShuttingDown())
    }

    @Test func errorMeansNotShuttingDownAndIsLogged() async {
        let log = RecordingLogHandler()
        let detector = SystemStateShutdownDetector(systemState: { throw BusDown() }, logger: log.logger)
        #expect(await !detector.isSystemShuttingDown())
        #expect(log.warnings.count == 1)
    }

    @Test func queuedShutdownJobIsShutdown() async {
        let detector = SystemStateShutdownDetector(systemState: { "running" }, shutdownJobQueued: { true })
        #expect(await detector.isSystemShuttingDown())
    }

    @Test func queuedShutdownJobCountsEvenWhenStateFails() async {
        let detector = SystemStateShutdownDetector(systemState: { throw BusDown() }, shutdownJobQueued: { true })
        #expect(await detector.isSystemShuttingDown())
    }

    @Test func bothFailingMeansNotShuttingDown() async {
        let log = RecordingLogHandler()
        let detector = SystemStateShutdownDetector(systemState: { throw BusDown() },
                                                   shutdownJobQueued: { throw BusDown() }, logger: log.logger)
        #expect(await !detector.isSystemShuttingDown())
        #expect(log.warnings.count == 2)
    }

    @Test func runningWithoutJobsIsNotShutdown() async {
        let detector = SystemStateShutdownDetector(systemState: { "running" }, shutdownJobQueued: { false })
        #expect(await !detector.isSystemShuttingDown())
    }

    /// Wherever the tests run (no bus, a bus without systemd, a running systemd), the production
    /// detector answers "no" rather than failing or hanging.
    @Test func systemBusAnswersNo() async throws {
        let detector = SystemStateShutdownDetector.systemBus(logger: RecordingLogHandler().logger)
        #expect(try await within { await detector.isSystemShuttingDown() } == false)
    }

    /// The real sd-bus code against a fake manager on a private bus.
    @Test(.enabled(if: FakeSystemdManager.isAvailable, "needs dbus-daemon and python3-dbus"))
    func messageBusAnswers() async throws {
        let manager = try FakeSystemdManager()
        defer { manager.stop() }
        let log = RecordingLogHandler()
        let detector = SystemStateShutdownDetector.messageBus(address: manager.address, logger: log.logger)

        try manager.set(state: "running", jobs: [("kubeip.service", "restart"), ("nginx.service", "stop")])
        #expect(try await within { await detector.isSystemShuttingDown() } == false)

        try manager.set(state: "degraded", jobs: [("kubeip.service", "stop"), ("reboot.target", "start")])
        #expect(try await within { await detector.isSystemShuttingDown() } == true)

        try manager.set(state: "running", jobs: [("poweroff.target", "stop")])
        #expect(try await within { await detector.isSystemShuttingDown() } == false)

        try manager.set(state: "stopping")
        #expect(try await within { await detector.isSystemShuttingDown() } == true)
        #expect(log.warnings.isEmpty)
    }

    @Test(.enabled(if: FakeSystemdManager.isAvailable, "needs dbus-daemon and python3-dbus"))
    func missingManagerOnTheBusAnswersNo() async throws {
        let manager = try FakeSystemdManager()
        manager.stop()
        let log = RecordingLogHandler()
        let detector = SystemStateShutdownDetector.messageBus(address: manager.address, logger: log.logger)
        #expect(try await within { await detector.isSystemShuttingDown() } == false)
        #expect(log.warnings.count == 2)
    }
}
