/// One setting as users see it: the same key is the long flag (`--retry-interval`), the key in
/// `/etc/kubeip/kubeip.yaml` and `conf.d/*.yaml`, and it is read from one environment variable.
///
/// ``SettingsTable/all`` is the single source for the executable's flags, the README table,
/// the man page and the packaged configuration file.
public struct SettingSpec: Sendable, Equatable, Identifiable {
    /// How a value is written.
    public enum Kind: String, Sendable, Equatable {
        /// Free text.
        case text
        /// A Go duration (`30s`, `1m`, `1h30m`).
        case duration
        /// A whole number.
        case integer
        /// true or false; as a flag it takes no value.
        case boolean
        /// One word out of a fixed set.
        case choice
        /// A comma-separated list of words out of a fixed set.
        case list
        /// A file path.
        case path
    }

    /// File key and long flag name, e.g. `retry-interval`.
    public let key: String
    /// Environment variables read for this setting, in order of preference.
    public let environment: [String]
    /// How the value is written.
    public let kind: Kind
    /// The default as shown to users (`1m`, or a phrase such as `auto-detect`).
    public let defaultDescription: String
    /// The default as a literal value in a YAML file; nil when the default is "decided at run
    /// time" and the key is best left unset.
    public let defaultValue: String?
    /// What values are accepted, in words (used in help and in error messages).
    public let accepted: String
    /// One valid example value.
    public let example: String
    /// What the setting does, in one line.
    public let summary: String
    /// The value the Debian package's kubeip.yaml sets, when it differs from ``defaultValue``.
    public let packagedValue: String?
    /// Whether the setting may appear in a settings file (`config` may not: it names the file).
    public let allowedInFile: Bool
    /// How a YAML list is joined into one value, for settings that accept one.
    public let listSeparator: String?
    /// Placeholder for the flag's value in help output (`duration`, `level`); nil for booleans.
    public var valueName: String? {
        switch kind {
        case .boolean: nil
        case .duration: "duration"
        case .integer: "count"
        case .path: "path"
        case .text, .choice, .list:
            switch key {
            case "log-level": "level"
            case "release-on-exit": "policy"
            case "order-by": "ordering"
            case "ip-families": "families"
            case "metrics-address": "address"
            default: key
            }
        }
    }

    /// The long flag, e.g. `--retry-interval`.
    public var flag: String { "--" + key }
    public var id: String { key }

    public init(key: String, environment: [String], kind: Kind, defaultDescription: String,
                defaultValue: String?, accepted: String, example: String, summary: String,
                packagedValue: String? = nil, allowedInFile: Bool = true, listSeparator: String? = nil) {
        self.key = key
        self.environment = environment
        self.kind = kind
        self.defaultDescription = defaultDescription
        self.defaultValue = defaultValue
        self.accepted = accepted
        self.example = example
        self.summary = summary
        self.packagedValue = packagedValue
        self.allowedInFile = allowedInFile
        self.listSeparator = listSeparator
    }
}

/// The table of every kubeip setting, in the order they are documented.
public enum SettingsTable {
    /// Where the main settings file is looked for when neither `--config` nor `KUBEIP_CONFIG` is given.
    public static let defaultConfigPath = "/etc/kubeip/kubeip.yaml"

    /// Every setting, in documentation order.
    public static let all: [SettingSpec] = [
        SettingSpec(
            key: "filter", environment: ["FILTER"], kind: .text,
            defaultDescription: "empty (every address)", defaultValue: "\"\"",
            accepted: "AWS: Name=<filter>,Values=<v1>,<v2> clauses joined by ';' (all must match); "
                + "GCP: API filter clauses such as labels.<key>=<value> joined by ';'",
            example: "Name=tag:env,Values=prod;Name=domain,Values=vpc",
            summary: "Which reserved addresses form the pool.",
            listSeparator: ";"),
        SettingSpec(
            key: "order-by", environment: ["ORDER_BY"], kind: .text,
            defaultDescription: "sticky, then spread", defaultValue: nil,
            accepted: "an address field or Tag:<key>, optionally followed by asc or desc",
            example: "Tag:priority desc",
            summary: "The order in which free addresses are tried."),
        SettingSpec(
            key: "retry-interval", environment: ["RETRY_INTERVAL"], kind: .duration,
            defaultDescription: "1m", defaultValue: "1m",
            accepted: "a Go duration of at least 1s (units ns, us, ms, s, m, h)",
            example: "30s",
            summary: "Wait between looks at a pool with no free address (spread by ±20%)."),
        SettingSpec(
            key: "retry-attempts", environment: ["RETRY_ATTEMPTS"], kind: .integer,
            defaultDescription: "0 (forever)", defaultValue: "0",
            accepted: "a whole number, 0 or more; 0 means keep looking forever",
            example: "10",
            summary: "Looks at an empty pool before giving up."),
        SettingSpec(
            key: "reconcile-interval", environment: ["RECONCILE_INTERVAL"], kind: .duration,
            defaultDescription: "5m", defaultValue: "5m",
            accepted: "a Go duration of at least 1s (units ns, us, ms, s, m, h)",
            example: "2m",
            summary: "Wait between checks that the held address is still attached."),
        SettingSpec(
            key: "release-on-exit", environment: ["RELEASE_ON_EXIT"], kind: .choice,
            defaultDescription: "true", defaultValue: "true",
            accepted: "true (release on every stop), false (never release) "
                + "or shutdown (release only when the machine shuts down)",
            example: "shutdown",
            summary: "Whether to give the address back when kubeip stops.",
            packagedValue: "shutdown"),
        SettingSpec(
            key: "log-level", environment: ["LOG_LEVEL"], kind: .choice,
            defaultDescription: "info", defaultValue: "info",
            accepted: LogLevelSetting.allCases.map(\.rawValue).joined(separator: ", "),
            example: "debug",
            summary: "The least severe log messages written."),
        SettingSpec(
            key: "json", environment: ["LOG_JSON"], kind: .boolean,
            defaultDescription: "false", defaultValue: "false",
            accepted: "true or false",
            example: "true",
            summary: "Write log lines as JSON objects."),
        SettingSpec(
            key: "region", environment: ["REGION"], kind: .text,
            defaultDescription: "from AWS_REGION, AWS_DEFAULT_REGION or instance metadata", defaultValue: nil,
            accepted: "a region name of lowercase letters, digits and '-'",
            example: "eu-west-1",
            summary: "The cloud region whose address pool is used."),
        SettingSpec(
            key: "project", environment: ["PROJECT"], kind: .text,
            defaultDescription: "from instance metadata", defaultValue: nil,
            accepted: "a GCP project ID of lowercase letters, digits and '-'",
            example: "my-project-123",
            summary: "The GCP project whose address pool is used."),
        SettingSpec(
            key: "ipv6", environment: ["IPV6"], kind: .boolean,
            defaultDescription: "false", defaultValue: "false",
            accepted: "true or false",
            example: "true",
            summary: "Hold an IPv6 address instead of an IPv4 one (GCP)."),
        SettingSpec(
            key: "ip-families", environment: ["IP_FAMILIES"], kind: .list,
            defaultDescription: "ipv4", defaultValue: "ipv4",
            accepted: "ipv4, ipv6 or ipv4,ipv6",
            example: "ipv4,ipv6",
            summary: "Address families to hold, one address each (ipv4,ipv6 for GCP dual stack).",
            listSeparator: ","),
        SettingSpec(
            key: "cloud", environment: ["CLOUD"], kind: .choice,
            defaultDescription: "auto-detect", defaultValue: "auto",
            accepted: "auto, " + CloudChoice.allCases.map(\.rawValue).joined(separator: ", "),
            example: "aws",
            summary: "Which cloud this machine runs in."),
        SettingSpec(
            key: "mode", environment: ["MODE"], kind: .choice,
            defaultDescription: "auto-detect", defaultValue: "auto",
            accepted: "auto, host or kube; auto means kube when NODE_NAME, KUBERNETES_SERVICE_HOST or a kube setting "
                + "(node-name, kubeconfig, lease-namespace, lease-duration, taint-key) is given, else host",
            example: "kube",
            summary: "How kubeip runs: host mode gives this machine an address; kube mode does it for a Kubernetes Node, coordinating through Leases."),
        SettingSpec(
            key: "node-name", environment: ["NODE_NAME"], kind: .text,
            defaultDescription: "/etc/podinfo/nodeName, else the host name", defaultValue: nil,
            accepted: "the Node's name (a DNS subdomain: lowercase letters, digits, '-' and '.')",
            example: "ip-10-0-1-23.eu-west-1.compute.internal",
            summary: "Kube mode: the Node this kubeip serves (the Downward API's spec.nodeName in a DaemonSet)."),
        SettingSpec(
            key: "kubeconfig", environment: ["KUBECONFIG"], kind: .path,
            defaultDescription: "in-cluster service account, else ~/.kube/config", defaultValue: nil,
            accepted: "a kubeconfig file, or several separated by ':' (merged as kubectl does)",
            example: "/etc/kubeip/kubeconfig",
            summary: "Kube mode: how to reach the Kubernetes API (current context)."),
        SettingSpec(
            key: "lease-namespace", environment: ["LEASE_NAMESPACE"], kind: .text,
            defaultDescription: "default", defaultValue: "default",
            accepted: "a namespace name (lowercase letters, digits and '-')",
            example: "kube-system",
            summary: "Kube mode: where the per-address claim Leases and the Events are written."),
        SettingSpec(
            key: "lease-duration", environment: ["LEASE_DURATION"], kind: .duration,
            defaultDescription: "5s", defaultValue: "5s",
            accepted: "whole seconds (kubeip v2's form, e.g. 5) or a Go duration, from 1s to 1h",
            example: "15s",
            summary: "Kube mode: how long a claim Lease lasts without renewal (renewed every third of it)."),
        SettingSpec(
            key: "taint-key", environment: ["TAINT_KEY"], kind: .text,
            defaultDescription: "none", defaultValue: nil,
            accepted: "a taint key: an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'",
            example: "kubeip.com/not-ready",
            summary: "Kube mode: the startup taint removed once the Node reports the new ExternalIP."),
        SettingSpec(
            key: "kube-allow-insecure-tls", environment: ["KUBE_ALLOW_INSECURE_TLS"], kind: .boolean,
            defaultDescription: "false", defaultValue: "false",
            accepted: "true or false",
            example: "true",
            summary: "Kube mode: accept a kubeconfig with insecure-skip-tls-verify (the API server's certificate is then not checked)."),
        SettingSpec(
            key: "metrics-address", environment: ["METRICS_ADDRESS"], kind: .text,
            defaultDescription: "empty (off)", defaultValue: "\"\"",
            accepted: "host:port to listen on (127.0.0.1:9808, [::1]:9808, 0.0.0.0:9808, :9808), or empty for none",
            example: "127.0.0.1:9808",
            summary: "The listener serving /healthz (the loop is alive) and /readyz (the address is held and announced)."),
        SettingSpec(
            key: "config", environment: ["KUBEIP_CONFIG"], kind: .path,
            defaultDescription: defaultConfigPath, defaultValue: defaultConfigPath,
            accepted: "the path of a YAML settings file; conf.d/*.yaml beside it is read too",
            example: "/etc/kubeip/kubeip.yaml",
            summary: "The main settings file.",
            allowedInFile: false),
    ]

    /// The setting with file key / flag name `key`.
    public static func spec(for key: String) -> SettingSpec? { all.first { $0.key == key } }

    /// The known key closest to `unknown` (ignoring case and `_` versus `-`) by edit distance,
    /// or the only key it is a prefix of, for "did you mean" hints; nil when nothing is close.
    public static func closestKey(to unknown: String) -> String? {
        let wanted = String(unknown.lowercased().map { $0 == "_" ? "-" : $0 })
        var best: (key: String, distance: Int)?
        for spec in all {
            let distance = editDistance(Array(wanted), Array(spec.key))
            if best == nil || distance < best!.distance { best = (spec.key, distance) }
        }
        if let best, best.distance <= max(2, wanted.count / 2) { return best.key }
        // A shortened key (`reconcile`) names the one setting it starts.
        let extended = all.filter { $0.key.hasPrefix(wanted) }
        return wanted.count >= 3 && extended.count == 1 ? extended[0].key : nil
    }

    /// Levenshtein distance between two character sequences.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
