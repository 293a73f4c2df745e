import ArgumentParser
import KubeIPConfig
import KubeIPCore
import KubeIPSystemd
import Logging

/// `kubeip run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Claim an address, tell systemd we are ready, hold it, release it as configured.")

    @OptionGroup var options: SettingOptions
    @Flag(inversion: .prefixedNo, help: "Log one JSON object per line (LOG_JSON).")
    var json: Bool?

    func run() async throws {
        let runtime = Runtime.production()
        var given = options.given
        given["json"] = json.map { $0 ? "true" : "false" }
        let flags = given
        let settings = try runtime.settings(flags: flags)
        let logger = runtime.bootstrapLogging(settings)
        let notifier = SystemdNotifier()
        // Watch SIGTERM/SIGHUP before anything slow, so a stop during start-up is honoured.
        let signals = await SignalSource()
        do {
            let lock = try FileLock.acquire(directory: runtime.runtimeDirectory)
            defer { lock.release() }
            notifier.status("starting")
            logger.info("kubeip \(KubeIPVersion.current) starting",
                        metadata: ["release-on-exit": "\(settings.releaseOnExit.rawValue)",
                                   "config": "\(settings.filesRead.joined(separator: ","))"])
            let cloud = try await runtime.cloud(for: settings, logger: logger)
            let requests = DaemonRequests()
            let forwarding = Task { for await signal in signals.signals { requests.deliver(signal) } }
            defer { forwarding.cancel() }
            let health = DaemonHealth(clock: runtime.clock)
            let engine = AddressEngine(cloud: cloud, settings: settings.engineSettings, requests: requests,
                                       clock: runtime.clock, random: runtime.random,
                                       state: FileStateStore(directory: runtime.stateDirectory, logger: logger),
                                       observer: health.observing(StatusObserver(notifier: notifier)), logger: logger)
            let daemon = HostDaemon(
                engine: engine, notifier: notifier, clock: runtime.clock, random: runtime.random, health: health,
                releasePolicy: settings.releaseOnExit, shutdown: runtime.shutdownDetector(logger: logger),
                reload: {
                    let fresh = try SettingsLoader.load(flags: flags, environment: runtime.environment)
                    return DaemonConfiguration(cloud: try await runtime.cloud(for: fresh, logger: logger),
                                               settings: fresh.engineSettings, releasePolicy: fresh.releaseOnExit)
                },
                logger: logger)
            let outcome = try await daemon.run()
            logger.info("stopped", metadata: ["released": "\(outcome == .stopped(released: true))"])
        } catch let error as KubeIPError {
            logger.critical("\(error)")
            notifier.stopping(status: "failed: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}

/// `kubeip release`: give this instance's addresses back now.
struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Detach this instance's pool address now (stop kubeip.service first).")

    @OptionGroup var options: SettingOptions

    func run() async throws {
        let runtime = Runtime.production()
        let settings = try runtime.settings(flags: options.given)
        let logger = runtime.bootstrapLogging(settings)
        do {
            let lock = try FileLock.acquire(directory: runtime.runtimeDirectory)
            defer { lock.release() }
            let engine = AddressEngine(cloud: try await runtime.cloud(for: settings, logger: logger),
                                       settings: settings.engineSettings, clock: runtime.clock, random: runtime.random,
                                       logger: logger)
            let held = try await engine.currentHoldings()
            if held.isEmpty { print("this instance holds no pool address") }
            try await engine.release()
            for assignment in held { print("released \(assignment.address.ip) (\(assignment.address.id))") }
        } catch let error as KubeIPError {
            Runtime.printError(error)
            throw ExitCode(error.exitCode)
        }
    }
}
