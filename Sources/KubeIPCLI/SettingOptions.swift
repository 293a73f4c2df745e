import ArgumentParser

/// The settings as command-line flags. Names match the settings table (`SettingsTable.all`),
/// which a test checks, so flags, environment, files, README and man page cannot drift.
public struct SettingOptions: ParsableArguments {
    @Option(help: "Which addresses form the pool (AWS describe-addresses filter shorthand, GCP API filter).")
    var filter: String?
    @Option(name: .customLong("order-by"), help: "Order in which free addresses are tried (a field or Tag:<key>, optional asc|desc).")
    var orderBy: String?
    @Option(name: .customLong("retry-interval"), help: "Wait between looks at an empty pool (Go duration, e.g. 1m).")
    var retryInterval: String?
    @Option(name: .customLong("retry-attempts"), help: "Looks at an empty pool before giving up (0 = forever).")
    var retryAttempts: String?
    @Option(name: .customLong("reconcile-interval"), help: "Interval between checks that the address is still held.")
    var reconcileInterval: String?
    @Option(name: .customLong("release-on-exit"), help: "Release the address on stop: true, false or shutdown.")
    var releaseOnExit: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?
    @Option(help: "Cloud region (default: from the environment or instance metadata).")
    var region: String?
    @Option(help: "GCP project (default: from instance metadata).")
    var project: String?
    @Flag(inversion: .prefixedNo, help: "Claim an IPv6 address instead of IPv4.")
    var ipv6: Bool?
    @Option(name: .customLong("ip-families"), help: "Families to hold: ipv4, ipv6 or ipv4,ipv6.")
    var ipFamilies: String?
    @Option(help: "aws, gcp or simulated (default: detected from instance metadata).")
    var cloud: String?
    @Option(help: "auto, host (a VM under systemd) or kube (a Kubernetes Node; Leases, taint, annotations).")
    var mode: String?
    @Option(name: .customLong("node-name"), help: "Kube mode: the Node's name (NODE_NAME).")
    var nodeName: String?
    @Option(help: "Kube mode: kubeconfig file(s) (default: in-cluster, else ~/.kube/config).")
    var kubeconfig: String?
    @Option(name: .customLong("lease-namespace"), help: "Kube mode: namespace of the claim Leases and Events.")
    var leaseNamespace: String?
    @Option(name: .customLong("lease-duration"), help: "Kube mode: claim Lease duration (seconds or a Go duration).")
    var leaseDuration: String?
    @Option(name: .customLong("taint-key"), help: "Kube mode: the startup taint to remove once the Node reports the address.")
    var taintKey: String?
    @Flag(name: .customLong("kube-allow-insecure-tls"), inversion: .prefixedNo,
          help: "Kube mode: accept a kubeconfig with insecure-skip-tls-verify.")
    var kubeAllowInsecureTLS: Bool?
    @Option(name: .customLong("metrics-address"), help: "host:port of the /healthz and /readyz listener (empty: none).")
    var metricsAddress: String?
    @Option(help: "Main configuration file; conf.d/*.yaml beside it is read too.")
    var config: String?

    public init() {}

    /// The flags the user gave, by setting key.
    public var given: [String: String] {
        var out: [String: String] = [:]
        out["filter"] = filter
        out["order-by"] = orderBy
        out["retry-interval"] = retryInterval
        out["retry-attempts"] = retryAttempts
        out["reconcile-interval"] = reconcileInterval
        out["release-on-exit"] = releaseOnExit
        out["log-level"] = logLevel
        out["region"] = region
        out["project"] = project
        out["ipv6"] = ipv6.map { $0 ? "true" : "false" }
        out["ip-families"] = ipFamilies
        out["cloud"] = cloud
        out["mode"] = mode
        out["node-name"] = nodeName
        out["kubeconfig"] = kubeconfig
        out["lease-namespace"] = leaseNamespace
        out["lease-duration"] = leaseDuration
        out["taint-key"] = taintKey
        out["kube-allow-insecure-tls"] = kubeAllowInsecureTLS.map { $0 ? "true" : "false" }
        out["metrics-address"] = metricsAddress
        out["config"] = config
        return out
    }

    /// Every setting key that has a flag here. `json` (LOG_JSON) is declared by `run` alone,
    /// because `check` and `status` use `--json` for their own output.
    static let keys = ["filter", "order-by", "retry-interval", "retry-attempts", "reconcile-interval", "release-on-exit",
                       "log-level", "region", "project", "ipv6", "ip-families", "cloud", "mode", "node-name",
                       "kubeconfig", "lease-namespace", "lease-duration", "taint-key", "kube-allow-insecure-tls",
                       "metrics-address", "config"]
}
