import ArgumentParser
import KubeIPConfig
import KubeIPCore
import KubeIPKube
import KubeIPNode
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
                        metadata: ["mode": "\(settings.mode.rawValue)", "mode_reason": "\(settings.modeReason ?? "set")",
                                   "release-on-exit": "\(settings.releaseOnExit.rawValue)",
                                   "config": "\(settings.filesRead.joined(separator: ","))"])
            let requests = DaemonRequests()
            let forwarding = Task { for await signal in signals.signals { requests.deliver(signal) } }
            defer { forwarding.cancel() }
            let health = DaemonHealth(clock: runtime.clock)
            let daemon = DaemonParts(runtime: runtime, settings: settings, flags: flags, notifier: notifier,
                                     requests: requests, health: health, logger: logger)
            let listener = try settings.metricsAddress.map { try HealthListener.start(address: $0, health: health, logger: logger) }
            let outcome: DaemonOutcome
            do {
                switch settings.mode {
                case .host: outcome = try await daemon.runHost()
                case .kube: outcome = try await daemon.runKube()
                }
            } catch {
                await listener?.stop()
                throw error
            }
            await listener?.stop()
            logger.info("stopped", metadata: ["released": "\(outcome == .stopped(released: true))"])
        } catch is Interrupted {
            // Stopped before there was anything to hold (kube mode: the Node was not there yet).
            notifier.stopping(status: "stopping")
            logger.info("stopped before anything was claimed")
        } catch let error as KubeIPError {
            logger.critical("\(error)")
            notifier.stopping(status: "failed: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}

/// What `kubeip run` builds, for either mode.
struct DaemonParts {
    let runtime: Runtime
    let settings: Settings
    let flags: [String: String]
    let notifier: SystemdNotifier
    let requests: DaemonRequests
    let health: DaemonHealth
    let logger: Logger

    /// The reload: settings read again, the cloud adapter built again (kube settings need a restart).
    func reload(kube: Runtime.KubeContext?) -> @Sendable () async throws -> DaemonConfiguration {
        { [runtime, flags, logger] in
            let fresh = try SettingsLoader.load(flags: flags, environment: runtime.environment)
            return DaemonConfiguration(cloud: try await runtime.cloud(for: fresh, kube: kube, logger: logger),
                                       settings: fresh.engineSettings, releasePolicy: fresh.releaseOnExit)
        }
    }

    func runHost() async throws -> DaemonOutcome {
        let cloud = try await runtime.cloud(for: settings, logger: logger)
        let engine = AddressEngine(cloud: cloud, settings: settings.engineSettings, requests: requests,
                                   clock: runtime.clock, random: runtime.random,
                                   state: FileStateStore(directory: runtime.stateDirectory, logger: logger),
                                   observer: health.observing(StatusObserver(notifier: notifier)), logger: logger)
        return try await HostDaemon(engine: engine, notifier: notifier, clock: runtime.clock, random: runtime.random,
                                    health: health, releasePolicy: settings.releaseOnExit,
                                    shutdown: runtime.shutdownDetector(logger: logger), reload: reload(kube: nil),
                                    logger: logger).run()
    }

    func runKube() async throws -> DaemonOutcome {
        let (notifier, health) = (self.notifier, self.health)
        let kube = try await runtime.kubeContext(for: settings, waiting: requests, status: {
            health.beat()
            notifier.status($0)
        }, logger: logger)
        let cloud = try await runtime.cloud(for: settings, kube: kube, logger: logger)
        let holder = LeaseCoordinator.holderIdentity(node: kube.nodeName, random: runtime.random)
        let coordinator = LeaseCoordinator(client: kube.client, namespace: settings.leaseNamespace, holder: holder,
                                           duration: settings.leaseDuration, clock: runtime.clock, logger: logger)
        let events = NodeEvents(client: kube.client, namespace: settings.leaseNamespace,
                                node: NodeReference(name: kube.nodeName, uid: kube.node.metadata.uid), instance: holder,
                                clock: runtime.clock, random: runtime.random, logger: logger)
        // In a pod there is no systemd to ask about a machine shutdown; on a node image there is.
        let inPod = !(runtime.environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty
        let role = NodeRole(configuration: .init(nodeName: kube.nodeName, taintKey: settings.taintKey),
                            client: kube.client, events: events, requests: requests,
                            shutdown: inPod ? nil : runtime.shutdownDetector(logger: logger),
                            status: {
                                // Every wait step of the role reports; reporting is progress.
                                health.beat()
                                notifier.status($0)
                            }, clock: runtime.clock, random: runtime.random, logger: logger)
        let engine = AddressEngine(cloud: cloud, settings: settings.engineSettings, coordinator: coordinator,
                                   requests: requests, clock: runtime.clock, random: runtime.random,
                                   state: FileStateStore(directory: runtime.stateDirectory, logger: logger),
                                   observer: health.observing(CombinedObserver([StatusObserver(notifier: notifier),
                                                                                role.observer()])),
                                   logger: logger)
        return try await NodeDaemon(engine: engine, role: role, notifier: notifier, health: health, clock: runtime.clock,
                                    random: runtime.random, releasePolicy: settings.releaseOnExit,
                                    reload: reload(kube: kube), logger: logger).run()
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
            let engine = AddressEngine(cloud: try await runtime.commandCloud(for: settings, logger: logger),
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
