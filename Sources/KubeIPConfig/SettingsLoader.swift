import KubeIPCore

/// Resolves ``Settings`` from five layers, highest precedence first:
/// flags, environment, `conf.d/*.yaml` (later files win), the main `kubeip.yaml`, defaults.
///
/// The main file is `flags["config"]`, else `KUBEIP_CONFIG`, else `/etc/kubeip/kubeip.yaml`;
/// the drop-in directory is `conf.d/` beside it, read in byte-wise lexical order. A missing
/// default file is fine; a missing file named explicitly is an error. Environment variables
/// that are set but empty count as unset, as in kubeip v2. Only the value that wins is
/// validated, so a flag can override a broken file value; unknown keys in any file are errors.
public enum SettingsLoader {
    /// Loads and validates every setting.
    ///
    /// - Parameters:
    ///   - flags: long flag name (without `--`, e.g. `retry-interval`) → value, only for flags the
    ///     user gave. Boolean flags given without a value should be passed as `"true"`.
    ///   - environment: the process environment.
    ///   - fileSystem: where the settings files are read from.
    /// - Throws: ``KubeIPError`` (`invalidSetting`, or `io` for an unreadable file) naming the
    ///   setting, what is wrong, the accepted form and where the value came from.
    public static func load(flags: [String: String], environment: [String: String],
                            fileSystem: some FileSystemReading = .real) throws -> Settings {
        for key in flags.keys.sorted() where SettingsTable.spec(for: key) == nil {
            throw KubeIPError.invalid(key, "--\(key) is not a kubeip flag" + hint(for: key))
        }
        var layers = Layers()

        // The main file, then conf.d beside it.
        var config = RawValue(text: SettingsTable.defaultConfigPath, origin: .default)
        if let value = nonEmpty(environment["KUBEIP_CONFIG"]) {
            config = RawValue(text: value, origin: .environment("KUBEIP_CONFIG"))
        }
        if let value = flags["config"] { config = RawValue(text: value, origin: .flag("--config")) }
        let configPath = try parseConfigPath(config)
        layers.set("config", config)

        var filesRead: [String] = []
        if let text = try fileSystem.readFile(atPath: configPath) {
            try layers.apply(YAMLDocument(parsing: text, path: configPath))
            filesRead.append(configPath)
        } else if config.origin != .default {
            throw invalid("config", "\(configPath) does not exist", config.origin)
        }
        let dropIns = confDirectory(forConfig: configPath)
        let names = try fileSystem.directoryEntries(atPath: dropIns) ?? []
        for name in names.filter(isDropIn).sorted(by: bytewise) {
            let path = dropIns + "/" + name
            guard let text = try fileSystem.readFile(atPath: path) else { continue }
            try layers.apply(YAMLDocument(parsing: text, path: path))
            filesRead.append(path)
        }

        // Environment, then flags.
        for spec in SettingsTable.all {
            if let name = spec.environment.first(where: { nonEmpty(environment[$0]) != nil }) {
                layers.set(spec.key, RawValue(text: environment[name]!, origin: .environment(name)))
            }
            if let value = flags[spec.key] {
                layers.set(spec.key, RawValue(text: value, origin: .flag(spec.flag)))
            }
        }

        var settings = try resolve(layers.values, environment: environment)
        settings.configPath = configPath
        settings.filesRead = filesRead
        return settings
    }

    /// The drop-in directory for a main settings file: `conf.d` in the same directory.
    public static func confDirectory(forConfig path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "conf.d" }
        let directory = path[..<slash]
        return directory.isEmpty ? "/conf.d" : directory + "/conf.d"
    }

    // MARK: Layering

    /// A value before validation, with where it came from.
    struct RawValue: Equatable {
        var text: String
        var origin: SettingOrigin
    }

    /// The winning raw value per key, built from the lowest layer up.
    struct Layers {
        var values: [String: RawValue] = [:]

        mutating func set(_ key: String, _ value: RawValue) { values[key] = value }

        mutating func apply(_ document: YAMLDocument) throws {
            for entry in document.entries {
                let origin = SettingOrigin.file(path: document.path, line: entry.line)
                guard let spec = SettingsTable.spec(for: entry.key) else {
                    throw KubeIPError.invalid(entry.key, "unknown setting '\(entry.key)' in \(origin)" + hint(for: entry.key))
                }
                guard spec.allowedInFile else {
                    throw KubeIPError.invalid(spec.key, "'\(spec.key)' cannot be set inside a settings file (\(origin)); "
                        + "expected --\(spec.key) or \(spec.environment.joined(separator: " or ")), e.g. \(spec.example)")
                }
                switch entry.value {
                case .null:
                    continue   // `key:` with nothing after it leaves the setting unset
                case .scalar(let text):
                    set(spec.key, RawValue(text: text, origin: origin))
                case .sequence(let items):
                    guard let separator = spec.listSeparator else {
                        throw SettingsLoader.invalid(spec.key, "a list is not accepted here", origin)
                    }
                    set(spec.key, RawValue(text: items.map(trimmed).joined(separator: separator), origin: origin))
                }
            }
        }
    }

    // MARK: Validation

    static func resolve(_ raw: [String: RawValue], environment: [String: String] = [:]) throws -> Settings {
        var settings = Settings()
        for (key, value) in raw where value.origin != .default { settings.origins[key] = value.origin }

        func each(_ key: String, _ body: (String, SettingOrigin) throws -> Void) throws {
            guard let value = raw[key] else { return }
            try body(trimmed(value.text), value.origin)
        }
        try each("filter") { text, _ in settings.filter = text }
        try each("order-by") { text, origin in settings.orderBy = try parseOrdering(text, origin) }
        try each("retry-interval") { text, origin in
            settings.retryInterval = try parseInterval("retry-interval", text, origin, minimum: .seconds(1))
        }
        try each("retry-attempts") { text, origin in
            guard let count = Int(text) else { throw invalid("retry-attempts", "'\(text)' is not a whole number", origin) }
            guard count >= 0 else { throw invalid("retry-attempts", "\(count) is negative", origin) }
            settings.retryAttempts = count
        }
        try each("reconcile-interval") { text, origin in
            settings.reconcileInterval = try parseInterval("reconcile-interval", text, origin, minimum: .seconds(1))
        }
        try each("release-on-exit") { text, origin in
            if text.lowercased() == ReleasePolicy.shutdown.rawValue {
                settings.releaseOnExit = .shutdown
            } else if let flag = parseBoolean(text) {
                settings.releaseOnExit = flag ? .always : .never
            } else {
                throw invalid("release-on-exit", "'\(text)' is not true, false or shutdown", origin)
            }
        }
        try each("log-level") { text, origin in
            let aliases: [String: LogLevelSetting] = ["warn": .warning, "fatal": .critical, "panic": .critical]
            guard let level = LogLevelSetting(rawValue: text.lowercased()) ?? aliases[text.lowercased()] else {
                throw invalid("log-level", "'\(text)' is not a log level", origin)
            }
            settings.logLevel = level
        }
        try each("json") { text, origin in settings.json = try boolean("json", text, origin) }
        try each("region") { text, origin in
            settings.region = try identifier("region", text, origin, extra: [])
        }
        try each("project") { text, origin in
            settings.project = try identifier("project", text, origin, extra: [".", ":"])
        }
        try each("ipv6") { text, origin in settings.ipv6 = try boolean("ipv6", text, origin) }
        try each("ip-families") { text, origin in settings.families = try parseFamilies(text, origin) }
        try each("cloud") { text, origin in
            let word = text.lowercased()
            if word == "auto" || word.isEmpty { settings.cloud = nil; return }
            guard let cloud = CloudChoice(rawValue: word) else {
                throw invalid("cloud", "'\(text)' is not a supported cloud", origin)
            }
            settings.cloud = cloud
        }
        var autoMode = true
        try each("mode") { text, origin in
            switch text.lowercased() {
            case "auto", "": autoMode = true
            case RunMode.host.rawValue: (settings.mode, settings.modeReason, autoMode) = (.host, nil, false)
            case RunMode.kube.rawValue: (settings.mode, settings.modeReason, autoMode) = (.kube, nil, false)
            default: throw invalid("mode", "'\(text)' is not a run mode", origin)
            }
        }
        try each("node-name") { text, origin in
            settings.nodeName = try dnsSubdomain("node-name", text, origin)
        }
        try each("kubeconfig") { text, _ in settings.kubeconfig = text.isEmpty ? nil : text }
        try each("lease-namespace") { text, origin in
            guard let name = try dnsSubdomain("lease-namespace", text, origin), name.count <= 63, !name.contains(".") else {
                throw invalid("lease-namespace", "'\(text)' is not a namespace name", origin)
            }
            settings.leaseNamespace = name
        }
        try each("lease-duration") { text, origin in
            // kubeip v2 takes whole seconds; a Go duration is accepted too.
            let duration = try Int(text).map { Duration.seconds($0) }
                ?? parseInterval("lease-duration", text, origin, minimum: .seconds(1))
            guard duration >= .seconds(1) else { throw invalid("lease-duration", "'\(text)' is shorter than 1s", origin) }
            guard duration <= .seconds(3600) else { throw invalid("lease-duration", "'\(text)' is longer than 1h", origin) }
            settings.leaseDuration = duration
        }
        try each("taint-key") { text, origin in settings.taintKey = try taintKey(text, origin) }
        try each("kube-allow-insecure-tls") { text, origin in
            settings.kubeAllowInsecureTLS = try boolean("kube-allow-insecure-tls", text, origin)
        }
        try each("metrics-address") { text, origin in settings.metricsAddress = try listenAddress(text, origin) }
        if autoMode {
            (settings.mode, settings.modeReason) = detectMode(raw, environment: environment)
        }
        // A pod restart or a rollout must not move the address: in kube mode an unset
        // release-on-exit means "only when the Node or the machine goes away".
        if settings.mode == .kube && raw["release-on-exit"] == nil { settings.releaseOnExit = .shutdown }

        // ipv6 is kubeip v2's switch; ip-families is the general form. They must agree.
        if settings.ipv6 {
            let familiesOrigin = settings.origin(of: "ip-families")
            if familiesOrigin == .default {
                settings.families = [.ipv6]
            } else if !settings.families.contains(.ipv6) {
                let given = settings.families.map(\.rawValue).joined(separator: ",")
                throw KubeIPError.invalid("ip-families",
                    "ipv6 is true (from \(settings.origin(of: "ipv6"))) but ip-families is '\(given)' (from \(familiesOrigin)); "
                    + "expected ip-families to include ipv6, or ipv6 left false, e.g. ip-families: ipv4,ipv6")
            }
        }
        return settings
    }

    /// `<what is wrong>; expected <accepted form>, e.g. <example> (from <origin>)`.
    static func invalid(_ key: String, _ what: String, _ origin: SettingOrigin) -> KubeIPError {
        let spec = SettingsTable.spec(for: key)!
        return .invalid(key, "\(what); expected \(spec.accepted), e.g. \(spec.example) (from \(origin))")
    }

    /// YAML's true/false/yes/no/on/off and Go's `strconv.ParseBool` spellings.
    static func parseBoolean(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": true
        case "0", "f", "F", "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": false
        default: nil
        }
    }

    private static func boolean(_ key: String, _ text: String, _ origin: SettingOrigin) throws -> Bool {
        guard let value = parseBoolean(text) else { throw invalid(key, "'\(text)' is not true or false", origin) }
        return value
    }

    private static func parseInterval(_ key: String, _ text: String, _ origin: SettingOrigin,
                                      minimum: Duration) throws -> Duration {
        let duration: Duration
        do {
            duration = try GoDuration.parse(text)
        } catch {
            throw invalid(key, error.description, origin)
        }
        if duration < .zero { throw invalid(key, "'\(text)' is negative", origin) }
        if duration < minimum {
            let what = minimum == .nanoseconds(1) ? "'\(text)' is zero" : "'\(text)' is shorter than \(GoDuration.format(minimum))"
            throw invalid(key, what, origin)
        }
        return duration
    }

    private static func parseOrdering(_ text: String, _ origin: SettingOrigin) throws -> AddressOrdering? {
        guard !text.isEmpty else { return nil }
        do {
            return try AddressOrdering(parsing: text)
        } catch {
            let words = text.split(separator: " ")
            let what = if words.count > 2 {
                "'\(text)' has \(words.count) words"
            } else if words.first == "Tag:" {
                "'Tag:' has no tag key"
            } else if words.count == 2 {
                "'\(words[1])' is not a direction"
            } else {
                "'\(text)' is not an ordering"
            }
            throw invalid("order-by", what, origin)
        }
    }

    private static func parseFamilies(_ text: String, _ origin: SettingOrigin) throws -> [IPFamily] {
        var families: Set<IPFamily> = []
        for word in text.split(separator: ",", omittingEmptySubsequences: false).map(trimmed) {
            guard let family = IPFamily(rawValue: word.lowercased()) else {
                let what = word.isEmpty ? "'\(text)' has an empty family" : "'\(word)' is not an address family"
                throw invalid("ip-families", what, origin)
            }
            guard families.insert(family).inserted else {
                throw invalid("ip-families", "'\(word)' is listed twice", origin)
            }
        }
        return IPFamily.allCases.filter(families.contains)
    }

    /// Region and project names: lowercase letters, digits, '-' (and `extra`); empty means unset.
    private static func identifier(_ key: String, _ text: String, _ origin: SettingOrigin,
                                   extra: Set<Character>) throws -> String? {
        guard !text.isEmpty else { return nil }
        let allowed = text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || extra.contains($0) }
        guard allowed else { throw invalid(key, "'\(text)' has characters other than lowercase letters, digits and '-'", origin) }
        return text
    }

    private static func parseConfigPath(_ raw: RawValue) throws -> String {
        let path = trimmed(raw.text)
        guard !path.isEmpty else { throw invalid("config", "the path is empty", raw.origin) }
        return path
    }

    // MARK: Helpers

    private static func hint(for unknown: String) -> String {
        if let near = SettingsTable.closestKey(to: unknown) { return "; did you mean '\(near)'?" }
        return "; known settings: " + SettingsTable.all.map(\.key).joined(separator: ", ")
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    /// `*.yaml`, skipping hidden files, as a shell glob would.
    private static func isDropIn(_ name: String) -> Bool {
        name.hasSuffix(".yaml") && !name.hasPrefix(".") && name.count > 5
    }

    private static func bytewise(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

/// `text` without leading and trailing white space.
func trimmed(_ text: some StringProtocol) -> String {
    let isSpace: (Character) -> Bool = { $0.isWhitespace }
    guard let first = text.firstIndex(where: { !isSpace($0) }),
          let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
    return String(text[first...last])
}
