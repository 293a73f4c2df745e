import KubeIPCore

/// The log levels a user may ask for (swift-log's names). KubeIPConfig does not depend on
/// swift-log; the executable maps these one to one onto `Logger.Level`.
public enum LogLevelSetting: String, Sendable, CaseIterable, Codable {
    case trace, debug, info, notice, warning, error, critical
}

/// The cloud to talk to. `nil` in ``Settings/cloud`` means auto-detect.
public enum CloudChoice: String, Sendable, CaseIterable, Codable {
    case aws, gcp, simulated
}

/// How kubeip runs.
public enum RunMode: String, Sendable, CaseIterable, Codable {
    /// Give this machine (VM or node image) an address from the pool; systemd is the audience.
    case host
    /// Give a Kubernetes Node an address: identity from the Node, claims coordinated through
    /// Leases, the startup taint removed once the Node reports the address.
    case kube
}

/// Where a setting's value came from, for `kubeip check` and for error messages.
public enum SettingOrigin: Sendable, Equatable, CustomStringConvertible {
    /// A command-line flag, e.g. `--retry-interval`.
    case flag(String)
    /// An environment variable, e.g. `RETRY_INTERVAL`.
    case environment(String)
    /// A settings file and the 1-based line of the key.
    case file(path: String, line: Int)
    /// Not set anywhere.
    case `default`

    /// `flag --retry-interval`, `environment RETRY_INTERVAL`, `/etc/kubeip/kubeip.yaml:3`, `default`.
    public var description: String {
        switch self {
        case .flag(let flag): "flag \(flag)"
        case .environment(let name): "environment \(name)"
        case .file(let path, let line): "\(path):\(line)"
        case .default: "default"
        }
    }
}

/// Every setting, typed, validated and resolved across flags, environment and files.
public struct Settings: Sendable, Equatable {
    /// Which addresses form the pool; empty means every address the cloud lists.
    public var filter: String = ""
    /// The order to try free addresses in; nil means sticky, then spread.
    public var orderBy: AddressOrdering?
    /// Wait between looks at an empty pool.
    public var retryInterval: Duration = .seconds(60)
    /// Looks at an empty pool before giving up; 0 means forever.
    public var retryAttempts: Int = 0
    /// Wait between hold checks.
    public var reconcileInterval: Duration = .seconds(300)
    /// What to do with the address on stop.
    public var releaseOnExit: ReleasePolicy = .always
    /// Least severe level logged.
    public var logLevel: LogLevelSetting = .info
    /// JSON log lines.
    public var json: Bool = false
    /// Region override; nil means the cloud adapter finds it.
    public var region: String?
    /// GCP project override; nil means from metadata.
    public var project: String?
    /// The `ipv6` setting as given (``families`` already reflects it).
    public var ipv6: Bool = false
    /// Families to hold, one address each, ipv4 before ipv6.
    public var families: [IPFamily] = [.ipv4]
    /// The cloud; nil means auto-detect.
    public var cloud: CloudChoice?
    /// The run mode in effect (``modeReason`` says why, when it was detected).
    public var mode: RunMode = .host
    /// Why ``mode`` was chosen when the setting was `auto` (`node-name is set (…)`); nil when given.
    public var modeReason: String? = SettingsLoader.hostModeReason
    /// Kube mode: the Node's name; nil means the Downward API file, else the host name.
    public var nodeName: String?
    /// Kube mode: the kubeconfig path(s); nil means in-cluster, else ~/.kube/config.
    public var kubeconfig: String?
    /// Kube mode: the namespace of the claim Leases and Events.
    public var leaseNamespace: String = "default"
    /// Kube mode: how long a claim Lease lasts without renewal.
    public var leaseDuration: Duration = .seconds(5)
    /// Kube mode: the startup taint to remove; nil for none.
    public var taintKey: String?
    /// Kube mode: whether a kubeconfig may turn off TLS verification.
    public var kubeAllowInsecureTLS: Bool = false
    /// `host:port` of the health (and metrics) listener; nil for none.
    public var metricsAddress: String?
    /// The main settings file (whether or not it exists).
    public var configPath: String = SettingsTable.defaultConfigPath
    /// The settings files actually read, lowest precedence first.
    public var filesRead: [String] = []
    /// Where each key's value came from; keys absent here are defaults.
    public var origins: [String: SettingOrigin] = [:]

    /// All defaults, nothing read.
    public init() {}

    /// Where the value of setting `key` came from.
    public func origin(of key: String) -> SettingOrigin { origins[key] ?? .default }

    /// The value of setting `key` in canonical written form (`1m0s`, `shutdown`, `ipv4,ipv6`);
    /// empty for an unset optional setting; nil for an unknown key.
    public func value(of key: String) -> String? {
        switch key {
        case "filter": filter
        case "order-by": orderBy?.description ?? ""
        case "retry-interval": GoDuration.format(retryInterval)
        case "retry-attempts": String(retryAttempts)
        case "reconcile-interval": GoDuration.format(reconcileInterval)
        case "release-on-exit": releaseOnExit.rawValue
        case "log-level": logLevel.rawValue
        case "json": String(json)
        case "region": region ?? ""
        case "project": project ?? ""
        case "ipv6": String(ipv6)
        case "ip-families": families.map(\.rawValue).joined(separator: ",")
        case "cloud": cloud?.rawValue ?? "auto"
        case "mode": modeReason == nil ? mode.rawValue : "auto"
        case "node-name": nodeName ?? ""
        case "kubeconfig": kubeconfig ?? ""
        case "lease-namespace": leaseNamespace
        case "lease-duration": GoDuration.format(leaseDuration)
        case "taint-key": taintKey ?? ""
        case "kube-allow-insecure-tls": String(kubeAllowInsecureTLS)
        case "metrics-address": metricsAddress ?? ""
        case "config": configPath
        default: nil
        }
    }

    /// The engine's share of the settings.
    public var engineSettings: EngineSettings {
        EngineSettings(families: families, ordering: orderBy, retryInterval: retryInterval,
                       retryAttempts: retryAttempts, reconcileInterval: reconcileInterval)
    }
}
