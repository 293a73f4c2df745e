import ArgumentParser
import KubeIPAWS
import KubeIPGCP
import KubeIPConfig
import KubeIPCore
import KubeIPHTTP
import KubeIPKube
import KubeIPNode
import KubeIPSimulator
import KubeIPSystemd
import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The outside world a command needs, injected: environment, HTTP, time, randomness.
/// ``production()`` builds the real parts; tests pass their own.
public struct Runtime: Sendable {
    public var environment: [String: String]
    public var http: any HTTPClient
    public var clock: any WallClock
    public var random: any RandomSource

    public init(environment: [String: String], http: any HTTPClient, clock: any WallClock = SystemClock(),
                random: any RandomSource = SystemRandom()) {
        self.environment = environment
        self.http = http
        self.clock = clock
        self.random = random
    }

    /// The process environment, libcurl, the system clock and the system's randomness.
    public static func production() -> Runtime {
        Runtime(environment: ProcessInfo.processInfo.environment, http: CurlHTTPClient())
    }

    /// `$STATE_DIRECTORY` (systemd's StateDirectory=), else /var/lib/kubeip.
    public var stateDirectory: String { firstPath(environment["STATE_DIRECTORY"]) ?? "/var/lib/kubeip" }

    /// `$RUNTIME_DIRECTORY` (systemd's RuntimeDirectory=), else /run/kubeip.
    public var runtimeDirectory: String { firstPath(environment["RUNTIME_DIRECTORY"]) ?? "/run/kubeip" }

    private func firstPath(_ value: String?) -> String? {
        // systemd passes a colon-separated list when a unit names several directories.
        value.flatMap { $0.split(separator: ":").first.map(String.init) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Loads and validates the settings; on error prints it and exits 78 (EX_CONFIG).
    public func settings(flags: [String: String]) throws -> Settings {
        do {
            let settings = try SettingsLoader.load(flags: flags, environment: environment)
            try Self.validateFilter(settings)
            return settings
        } catch let error as KubeIPError {
            Self.printError(error)
            throw ExitCode(error.exitCode)
        }
    }

    /// Checks the filter's syntax locally, before any metadata or cloud call: against the
    /// chosen cloud's syntax, or, when the cloud is to be detected, against every cloud kubeip
    /// supports (a filter no cloud accepts is wrong wherever this machine runs).
    static func validateFilter(_ settings: Settings) throws {
        switch settings.cloud {
        case .aws: _ = try EC2Filter.parse(settings.filter)
        case .gcp: _ = try GCPFilter.parse(settings.filter)
        case .simulated: break
        case nil:
            // AWS's shorthand (`Name=...,Values=...`) is unmistakable: GCP field names are lower case.
            let clauses = settings.filter.split(separator: ";").map { $0.trimmingPrefix(while: \.isWhitespace) }
            if clauses.contains(where: { $0.hasPrefix("Name=") || $0.hasPrefix("Values=") || $0.contains(",Values=") }) {
                _ = try EC2Filter.parse(settings.filter)
            } else {
                _ = try GCPFilter.parse(settings.filter)
            }
        }
    }

    /// Installs the log handler the settings ask for and returns the root logger.
    public func bootstrapLogging(_ settings: Settings) -> Logger {
        let level = Logger.Level(rawValue: settings.logLevel.rawValue) ?? .info
        let format: ConsoleLogHandler.Format = settings.json ? .json : .text
        let journal = environment["JOURNAL_STREAM"] != nil
        LoggingBootstrap.once {
            LoggingSystem.bootstrap { label in
                ConsoleLogHandler(label: label, level: level, format: format, journal: journal)
            }
        }
        return Logger(label: "kubeip")
    }

    /// Kube mode's view of this machine: the API client, the Node and its machine.
    public struct KubeContext: Sendable {
        /// The API client the settings describe.
        public var client: KubernetesClient
        /// The Node as first read.
        public var node: Node
        /// The machine behind it (from its providerID).
        public var machine: NodeMachine
        /// The Node's name.
        public var nodeName: String { node.metadata.name ?? "" }
    }

    /// The Kubernetes API client the settings describe (kubeconfig, in-cluster, insecure TLS allowed or not).
    public func kubeClient(for settings: Settings, logger: Logger) throws -> KubernetesClient {
        let environment = try SecretFiles.resolve(environment)
        let connection = try KubeConnection.resolve(kubeconfigPath: settings.kubeconfig, environment: environment,
                                                    allowInsecureTLS: settings.kubeAllowInsecureTLS)
        logger.info("talking to \(connection)")
        return KubernetesClient(connection: connection, environment: environment, clock: clock, random: random,
                                logger: logger, userAgent: "kubeip/\(KubeIPVersion.current)")
    }

    /// Finds this kubeip's Node (the `node-name` setting, the Downward API file, the host name)
    /// and its machine; with `requests`, waits while the Node is not registered yet.
    public func kubeContext(for settings: Settings, waiting requests: DaemonRequests?, status: @escaping @Sendable (String) -> Void,
                            logger: Logger) async throws -> KubeContext {
        let client = try kubeClient(for: settings, logger: logger)
        let name = try NodeLocator.nodeName(setting: settings.nodeName,
                                            readFile: { try? RealFileSystem().readFile(atPath: $0) },
                                            hostname: { environment["HOSTNAME"] ?? POSIXHost.name() })
        let (node, machine) = try await NodeLocator.find(name, client: client, requests: requests, clock: clock,
                                                         random: random, status: status, logger: logger)
        if let chosen = settings.cloud, chosen.rawValue != machine.cloud {
            throw KubeIPError.invalid("cloud", "is '\(chosen.rawValue)' but Node \(name) runs on \(machine.cloud) (its providerID); leave cloud unset in kube mode")
        }
        if let region = settings.region, region != machine.region {
            throw KubeIPError.invalid("region", "is '\(region)' but Node \(name) is in \(machine.region); a static address must be in the node's region (leave region unset)")
        }
        logger.info("found the Node", metadata: ["node": "\(name)", "machine": "\(machine)"])
        return KubeContext(client: client, node: node, machine: machine)
    }

    /// The cloud adapter for a one-shot command (`check`, `status`, `release`): in kube mode the
    /// machine comes from the Node, looked up once.
    public func commandCloud(for settings: Settings, logger: Logger) async throws -> CloudAdapter {
        guard settings.mode == .kube else { return try await cloud(for: settings, logger: logger) }
        let kube = try await kubeContext(for: settings, waiting: nil, status: { _ in }, logger: logger)
        return try await cloud(for: settings, kube: kube, logger: logger)
    }

    /// Builds the cloud adapter the settings select, detecting the cloud when unset. In kube mode
    /// (`kube` given) the machine comes from the Node: no instance metadata is needed for identity.
    public func cloud(for settings: Settings, kube: KubeContext? = nil, logger: Logger) async throws -> CloudAdapter {
        if let kube {
            let environment = try SecretFiles.resolve(environment)
            switch kube.machine {
            case .aws(let instanceID, let zone, let region):
                return try AWSCloud.make(filter: settings.filter, region: region, environment: environment, http: http,
                                         clock: clock, random: random,
                                         instance: .init(instanceID: instanceID, zone: zone, region: region), logger: logger)
            case .gcp(let project, let zone, let name, _):
                return try GCPCloud.make(filter: settings.filter, orderBy: settings.orderBy?.description, project: project,
                                         region: nil, families: settings.families, environment: environment, http: http,
                                         clock: clock, random: random,
                                         instance: GCPNodeIdentityProvider(project: project, zone: zone, name: name),
                                         logger: logger)
            }
        }
        let choice: CloudChoice
        if let chosen = settings.cloud {
            choice = chosen
        } else {
            choice = try await CloudDetector(http: http, environment: environment).detect(clock: clock)
            logger.info("detected cloud", metadata: ["cloud": "\(choice.rawValue)"])
        }
        // Secret files may come from systemd's LoadCredential= and must not be world-readable.
        let environment = try SecretFiles.resolve(environment)
        switch choice {
        case .aws:
            return try AWSCloud.make(filter: settings.filter, region: settings.region, environment: environment,
                                     http: http, clock: clock, random: random, logger: logger)
        case .gcp:
            return try GCPCloud.make(filter: settings.filter, orderBy: settings.orderBy?.description,
                                     project: settings.project, region: settings.region, families: settings.families,
                                     environment: environment, http: http, clock: clock, random: random, logger: logger)
        case .simulated:
            return await SimulatedCloud.standard.adapter()
        }
    }

    /// Asks systemd's manager whether the machine is shutting down. An explicit
    /// `DBUS_SYSTEM_BUS_ADDRESS` is used as given (also by tests, with a fake manager);
    /// otherwise systemd's private socket or the system bus.
    public func shutdownDetector(logger: Logger) -> SystemStateShutdownDetector {
        if let address = environment["DBUS_SYSTEM_BUS_ADDRESS"], !address.isEmpty {
            return .messageBus(address: address, logger: logger)
        }
        return .systemBus(logger: logger)
    }

    /// Prints an error to stderr as `kubeip: <description>`.
    public static func printError(_ error: any Error) {
        ConsoleLogHandler.standardError("kubeip: \(error)\n")
    }
}

/// Runs the logging bootstrap at most once per process (swift-log forbids a second one).
enum LoggingBootstrap {
    private static let done = Mutex(false)
    static func once(_ body: () -> Void) {
        let first = done.withLock { value -> Bool in
            defer { value = true }
            return !value
        }
        if first { body() }
    }
}

import Synchronization

extension SimulatedCloud {
    /// The process-wide simulated cloud behind `cloud: simulated`: one instance and a pool
    /// of four addresses, for trying kubeip without a cloud (`kubeip check --cloud simulated`).
    /// One per process, so that a reload sees the same cloud.
    static let standard = StandardSimulation()

    actor StandardSimulation {
        private var cloud: SimulatedCloud?

        func adapter() async -> CloudAdapter {
            if let cloud { return cloud.adapter(for: "i-simulated") }
            let made = SimulatedCloud(region: "sim-east-1")
            await made.launchInstance("i-simulated")
            for i in 0..<4 { await made.allocateAddress("198.51.100.\(10 + i)", tags: ["kubeip": "reserved"]) }
            cloud = made
            return made.adapter(for: "i-simulated")
        }
    }
}
