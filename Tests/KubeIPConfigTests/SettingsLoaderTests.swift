import KubeIPCore
import Testing
@testable import KubeIPConfig

private let mainFile = "/etc/kubeip/kubeip.yaml"

/// Loads with an in-memory file system.
private func load(flags: [String: String] = [:], env: [String: String] = [:],
                  files: [String: String] = [:]) throws -> Settings {
    try SettingsLoader.load(flags: flags, environment: env, fileSystem: InMemoryFileSystem(files))
}

/// The error a load raises; every loader error is typed and exits 78 (or 74 for I/O).
private func loadError(flags: [String: String] = [:], env: [String: String] = [:],
                       files: [String: String] = [:]) throws -> KubeIPError {
    try #require(throws: KubeIPError.self) { try load(flags: flags, env: env, files: files) }
}

@Suite struct SettingsLoaderTests {
    @Test func defaultsWhenNothingIsSet() throws {
        let settings = try load()
        #expect(settings == Settings())
        #expect(settings.mode == .host && settings.value(of: "mode") == "auto")
        #expect(settings.filter == "")
        #expect(settings.orderBy == nil)
        #expect(settings.retryInterval == .seconds(60))
        #expect(settings.retryAttempts == 0)
        #expect(settings.reconcileInterval == .seconds(300))
        #expect(settings.releaseOnExit == .always)
        #expect(settings.logLevel == .info)
        #expect(settings.json == false)
        #expect(settings.region == nil && settings.project == nil && settings.cloud == nil)
        #expect(settings.families == [.ipv4])
        #expect(settings.mode == .host)
        #expect(settings.configPath == mainFile)
        #expect(settings.filesRead.isEmpty)
        for spec in SettingsTable.all { #expect(settings.origin(of: spec.key) == .default) }
    }

    @Test func precedenceAcrossAllFiveLayers() throws {
        let settings = try load(
            flags: ["retry-interval": "10s"],
            env: ["RETRY_INTERVAL": "20s", "RETRY_ATTEMPTS": "3", "REGION": "eu-west-1"],
            files: [
                mainFile: """
                    retry-interval: 40s
                    retry-attempts: 1
                    log-level: debug
                    json: true
                    region: us-east-1
                    """,
                "/etc/kubeip/conf.d/50-site.yaml": """
                    retry-interval: 30s
                    retry-attempts: 2
                    log-level: warning
                    """,
            ])
        // flag > env > conf.d > kubeip.yaml > default, key by key.
        #expect(settings.retryInterval == .seconds(10))
        #expect(settings.origin(of: "retry-interval") == .flag("--retry-interval"))
        #expect(settings.retryAttempts == 3)
        #expect(settings.origin(of: "retry-attempts") == .environment("RETRY_ATTEMPTS"))
        #expect(settings.region == "eu-west-1")
        #expect(settings.logLevel == .warning)
        #expect(settings.origin(of: "log-level") == .file(path: "/etc/kubeip/conf.d/50-site.yaml", line: 3))
        #expect(settings.json)
        #expect(settings.origin(of: "json") == .file(path: mainFile, line: 4))
        #expect(settings.reconcileInterval == .seconds(300))
        #expect(settings.origin(of: "reconcile-interval") == .default)
        #expect(settings.filesRead == [mainFile, "/etc/kubeip/conf.d/50-site.yaml"])
    }

    @Test func confDFilesApplyInByteWiseLexicalOrder() throws {
        let settings = try load(files: [
            mainFile: "log-level: trace\nregion: a-1\n",
            "/etc/kubeip/conf.d/10-a.yaml": "log-level: debug\nregion: b-1\nproject: p-10\n",
            "/etc/kubeip/conf.d/20-b.yaml": "log-level: info\n",
            "/etc/kubeip/conf.d/9-c.yaml": "log-level: error\n",
            "/etc/kubeip/conf.d/Z-upper.yaml": "project: p-upper\n",
            // Not *.yaml, hidden, or in a subdirectory: ignored.
            "/etc/kubeip/conf.d/99-z.yml": "log-level: critical\n",
            "/etc/kubeip/conf.d/99-z.yaml.dpkg-old": "log-level: critical\n",
            "/etc/kubeip/conf.d/.hidden.yaml": "log-level: critical\n",
            "/etc/kubeip/conf.d/sub/x.yaml": "log-level: critical\n",
        ])
        // "10-a" < "20-b" < "9-c" < "Z-upper" byte-wise; the last file wins.
        #expect(settings.logLevel == .error)
        #expect(settings.origin(of: "log-level") == .file(path: "/etc/kubeip/conf.d/9-c.yaml", line: 1))
        #expect(settings.region == "b-1")
        #expect(settings.project == "p-upper")
        #expect(settings.filesRead == [mainFile, "/etc/kubeip/conf.d/10-a.yaml", "/etc/kubeip/conf.d/20-b.yaml",
                                       "/etc/kubeip/conf.d/9-c.yaml", "/etc/kubeip/conf.d/Z-upper.yaml"])
    }

    @Test func confDIsReadEvenWithoutAMainFile() throws {
        let settings = try load(files: ["/etc/kubeip/conf.d/a.yaml": "mode: host\n"])
        #expect(settings.filesRead == ["/etc/kubeip/conf.d/a.yaml"])
        #expect(settings.origin(of: "mode") == .file(path: "/etc/kubeip/conf.d/a.yaml", line: 1))
    }

    @Test func configPathFromEnvironmentAndFlag() throws {
        let files = [
            "/srv/a/kubeip.yaml": "region: from-env\n",
            "/srv/a/conf.d/1.yaml": "project: env-dropin\n",
            "/srv/b/custom.yaml": "region: from-flag\n",
            mainFile: "region: default-file\n",
        ]
        let viaEnv = try load(env: ["KUBEIP_CONFIG": "/srv/a/kubeip.yaml"], files: files)
        #expect(viaEnv.region == "from-env")
        #expect(viaEnv.project == "env-dropin")
        #expect(viaEnv.configPath == "/srv/a/kubeip.yaml")
        #expect(viaEnv.origin(of: "config") == .environment("KUBEIP_CONFIG"))

        let viaFlag = try load(flags: ["config": "/srv/b/custom.yaml"], env: ["KUBEIP_CONFIG": "/srv/a/kubeip.yaml"],
                               files: files)
        #expect(viaFlag.region == "from-flag")
        #expect(viaFlag.project == nil)
        #expect(viaFlag.origin(of: "config") == .flag("--config"))
        #expect(viaFlag.filesRead == ["/srv/b/custom.yaml"])
    }

    @Test func missingDefaultFileIsFineButMissingExplicitFileIsNot() throws {
        #expect(try load().filesRead.isEmpty)
        let fromFlag = try loadError(flags: ["config": "/nope/kubeip.yaml"])
        #expect(fromFlag.code == .invalidSetting)
        #expect(fromFlag.setting == "config")
        #expect(fromFlag.message.contains("/nope/kubeip.yaml does not exist"))
        #expect(fromFlag.message.contains("(from flag --config)"))
        let fromEnv = try loadError(env: ["KUBEIP_CONFIG": "/nope/env.yaml"])
        #expect(fromEnv.message.contains("(from environment KUBEIP_CONFIG)"))
    }

    @Test func confDirectoryIsBesideTheConfigFile() {
        #expect(SettingsLoader.confDirectory(forConfig: "/etc/kubeip/kubeip.yaml") == "/etc/kubeip/conf.d")
        #expect(SettingsLoader.confDirectory(forConfig: "/kubeip.yaml") == "/conf.d")
        #expect(SettingsLoader.confDirectory(forConfig: "kubeip.yaml") == "conf.d")
        #expect(SettingsLoader.confDirectory(forConfig: "local/k.yaml") == "local/conf.d")
    }

    @Test func unknownFileKeySuggestsTheClosestKnownKey() throws {
        let error = try loadError(files: [mainFile: "# settings\nmode: host\nretry-intervall: 30s\n"])
        #expect(error.code == .invalidSetting)
        #expect(error.setting == "retry-intervall")
        #expect(error.message.contains("unknown setting 'retry-intervall'"))
        #expect(error.message.contains("\(mainFile):3"))
        #expect(error.message.contains("did you mean 'retry-interval'?"))

        let envStyle = try loadError(files: ["/etc/kubeip/conf.d/a.yaml": "RELEASE_ON_EXIT: shutdown\n"])
        #expect(envStyle.message.contains("did you mean 'release-on-exit'?"))
        #expect(envStyle.message.contains("/etc/kubeip/conf.d/a.yaml:1"))

        let nothingClose = try loadError(files: [mainFile: "zebra-quartz-volume: x\n"])
        #expect(nothingClose.message.contains("known settings: filter, order-by"))
    }

    @Test func unknownFlagIsAnError() throws {
        let error = try loadError(flags: ["loglevel": "debug"])
        #expect(error.setting == "loglevel")
        #expect(error.message.contains("--loglevel is not a kubeip flag; did you mean 'log-level'?"))
    }

    @Test func configCannotBeSetInsideAFile() throws {
        let error = try loadError(files: [mainFile: "config: /other.yaml\n"])
        #expect(error.setting == "config")
        #expect(error.message.contains("--config or KUBEIP_CONFIG"))
        #expect(error.message.contains("\(mainFile):1"))
    }

    /// For each setting, a value it must refuse, given as a flag.
    static let invalidValues: [(key: String, value: String)] = [
        ("order-by", "PublicIp sideways"), ("retry-interval", "5"), ("retry-attempts", "many"),
        ("reconcile-interval", "500ms"), ("release-on-exit", "sometimes"), ("log-level", "loud"),
        ("json", "maybe"), ("region", "EU West"), ("project", "My Project"), ("ipv6", "perhaps"),
        ("ip-families", "ipv5"), ("cloud", "azure"), ("mode", "cluster"), ("config", ""),
        ("node-name", "Node_1"), ("lease-namespace", "Kube System"), ("lease-duration", "0"),
        ("taint-key", "a/b/c"), ("kube-allow-insecure-tls", "sure"), ("metrics-address", "9808"),
    ]

    @Test func everySettingButFilterHasAnInvalidValueCase() {
        // filter is free text interpreted by the cloud adapter, kubeconfig a path read later: nothing
        // is invalid here.
        let covered = Set(Self.invalidValues.map(\.key)).union(["filter", "kubeconfig"])
        #expect(covered == Set(SettingsTable.all.map(\.key)))
    }

    @Test(arguments: invalidValues)
    func invalidValuesNameTheSettingAndTheAcceptedForm(key: String, value: String) throws {
        let spec = try #require(SettingsTable.spec(for: key))
        let error = try loadError(flags: [key: value])
        #expect(error.code == .invalidSetting)
        #expect(error.exitCode == 78)
        #expect(error.setting == key)
        #expect(error.message.contains("expected \(spec.accepted), e.g. \(spec.example) (from flag --\(key))"))
        #expect(error.description.hasPrefix("setting '\(key)': "))
    }

    @Test(arguments: invalidValues.filter { $0.key != "config" })
    func invalidValuesFromEnvironmentAndFilesNameTheirOrigin(key: String, value: String) throws {
        let spec = try #require(SettingsTable.spec(for: key))
        let name = spec.environment[0]
        if !value.isEmpty {
            let fromEnv = try loadError(env: [name: value])
            #expect(fromEnv.message.hasSuffix("(from environment \(name))"))
        }
        let fromFile = try loadError(files: [mainFile: "# x\n\(key): '\(value)'\n"])
        #expect(fromFile.message.hasSuffix("(from \(mainFile):2)"))
        #expect(fromFile.setting == key)
    }

    @Test(arguments: [
        ("retry-interval", "-5s", "is negative"), ("retry-interval", "0", "shorter than 1s"),
        ("retry-interval", "", "empty"), ("retry-interval", "1d", "'d' is not a unit"),
        ("reconcile-interval", "0s", "shorter than 1s"), ("reconcile-interval", "-1m", "is negative"),
        ("retry-attempts", "-1", "is negative"), ("retry-attempts", "1.5", "not a whole number"),
        ("order-by", "Tag:", "no tag key"), ("order-by", "a b c", "3 words"),
        ("ip-families", "ipv4,ipv4", "listed twice"), ("ip-families", "ipv4,", "empty family"),
        ("ip-families", "", "empty family"),
    ])
    func invalidValuesSayWhatIsWrong(key: String, value: String, problem: String) throws {
        let error = try loadError(flags: [key: value])
        #expect(error.setting == key)
        #expect(error.message.contains(problem))
    }

    @Test func modeIsDetectedFromKubeSettingsOrAPodAndForcedWhenGiven() throws {
        #expect(try load().mode == .host)
        let byNode = try load(env: ["NODE_NAME": "ip-10-0-0-1.ec2.internal"])
        #expect(byNode.mode == .kube)
        #expect(byNode.modeReason == "node-name is set (environment NODE_NAME)")
        #expect(try load(files: [mainFile: "taint-key: kubeip.com/not-ready\n"]).mode == .kube)
        let inPod = try load(env: ["KUBERNETES_SERVICE_HOST": "10.96.0.1"])
        #expect(inPod.mode == .kube && inPod.modeReason == "KUBERNETES_SERVICE_HOST is set (running in a pod)")
        // Forced either way, whatever else is set.
        let forcedHost = try load(env: ["MODE": "host", "KUBERNETES_SERVICE_HOST": "10.96.0.1"])
        #expect(forcedHost.mode == .host && forcedHost.modeReason == nil)
        #expect(try load(flags: ["mode": "kube"]).mode == .kube)
        #expect(try load(env: ["MODE": "auto", "NODE_NAME": "n1"]).mode == .kube)
    }

    @Test func kubeSettingsAndTheirKubeipV2Forms() throws {
        let settings = try load(env: ["NODE_NAME": "n1", "LEASE_NAMESPACE": "kube-system", "LEASE_DURATION": "15",
                                      "TAINT_KEY": "kubeip.com/not-ready", "KUBECONFIG": "/etc/kubeip/kubeconfig",
                                      "METRICS_ADDRESS": "[::1]:9808"])
        #expect(settings.nodeName == "n1")
        #expect(settings.leaseNamespace == "kube-system")
        #expect(settings.leaseDuration == .seconds(15))
        #expect(settings.taintKey == "kubeip.com/not-ready")
        #expect(settings.kubeconfig == "/etc/kubeip/kubeconfig")
        #expect(settings.metricsAddress == "[::1]:9808")
        #expect(try load(flags: ["lease-duration": "1m30s"]).leaseDuration == .seconds(90))
        #expect(try loadError(flags: ["lease-duration": "2h"]).message.contains("longer than 1h"))
        #expect(try loadError(flags: ["metrics-address": "::1:9808"]).message.contains("IPv6 host goes in brackets"))
        #expect(try load(flags: ["metrics-address": ":9808"]).metricsAddress == ":9808")
    }

    @Test func kubeModeReleasesOnlyWhenTheNodeGoesAwayUnlessToldOtherwise() throws {
        #expect(try load(env: ["MODE": "kube"]).releaseOnExit == .shutdown)
        #expect(try load(env: ["MODE": "kube", "RELEASE_ON_EXIT": "true"]).releaseOnExit == .always)
        #expect(try load().releaseOnExit == .always)   // host mode keeps kubeip v2's default
    }

    @Test func emptyEnvironmentVariablesCountAsUnset() throws {
        let settings = try load(
            env: ["RETRY_INTERVAL": "", "FILTER": "", "LOG_JSON": "", "KUBEIP_CONFIG": "", "MODE": ""],
            files: [mainFile: "retry-interval: 30s\nfilter: Name=domain,Values=vpc\n"])
        #expect(settings.retryInterval == .seconds(30))
        #expect(settings.origin(of: "retry-interval") == .file(path: mainFile, line: 1))
        #expect(settings.filter == "Name=domain,Values=vpc")
        #expect(settings.json == false)
        #expect(settings.origin(of: "json") == .default)
        #expect(settings.configPath == mainFile)
    }

    @Test func anEmptyFlagOverridesAFileValue() throws {
        let settings = try load(flags: ["filter": ""], files: [mainFile: "filter: Name=domain,Values=vpc\n"])
        #expect(settings.filter == "")
        #expect(settings.origin(of: "filter") == .flag("--filter"))
    }

    @Test func aNullFileValueLeavesTheLowerLayer() throws {
        let settings = try load(files: [mainFile: "region: eu-west-1\n",
                                        "/etc/kubeip/conf.d/a.yaml": "region:\n"])
        #expect(settings.region == "eu-west-1")
        #expect(settings.origin(of: "region") == .file(path: mainFile, line: 1))
    }

    @Test func onlyTheWinningValueIsValidated() throws {
        let settings = try load(flags: ["retry-interval": "15s"], files: [mainFile: "retry-interval: soon\n"])
        #expect(settings.retryInterval == .seconds(15))
    }

    @Test func valuesAreTrimmed() throws {
        let settings = try load(env: ["RETRY_INTERVAL": " 30s ", "LOG_LEVEL": "Debug\n"])
        #expect(settings.retryInterval == .seconds(30))
        #expect(settings.logLevel == .debug)
    }

    @Test func fileListsAreJoinedForFilterAndIPFamilies() throws {
        let settings = try load(files: [mainFile: """
            filter:
              - Name=tag:env,Values=prod
              - Name=domain,Values=vpc
            ip-families: [ipv6, ipv4]
            """])
        #expect(settings.filter == "Name=tag:env,Values=prod;Name=domain,Values=vpc")
        #expect(settings.families == [.ipv4, .ipv6])
        #expect(settings.origin(of: "filter") == .file(path: mainFile, line: 1))
    }

    @Test func listsAreRefusedForOtherSettings() throws {
        let error = try loadError(files: [mainFile: "retry-interval: [1m, 2m]\n"])
        #expect(error.setting == "retry-interval")
        #expect(error.message.contains("a list is not accepted here"))
        #expect(error.message.contains("(from \(mainFile):1)"))
    }

    @Test func yamlErrorsPropagateWithFileAndLine() throws {
        let error = try loadError(files: ["/etc/kubeip/conf.d/bad.yaml": "mode: host\nregion: [x\n"])
        #expect(error.code == .invalidSetting)
        #expect(error.message.contains("/etc/kubeip/conf.d/bad.yaml:"))
    }

    @Test(arguments: ["1", "t", "T", "TRUE", "true", "True", "yes", "Yes", "YES", "on"])
    func trueSpellings(text: String) throws {
        #expect(try load(env: ["LOG_JSON": text]).json == true)
        #expect(try load(files: [mainFile: "json: \(text)\n"]).json == true)
        #expect(try load(flags: ["release-on-exit": text]).releaseOnExit == .always)
    }

    @Test(arguments: ["0", "f", "F", "FALSE", "false", "False", "no", "No", "NO", "off"])
    func falseSpellings(text: String) throws {
        #expect(try load(flags: ["json": text], files: [mainFile: "json: true\n"]).json == false)
        #expect(try load(flags: ["release-on-exit": text]).releaseOnExit == .never)
    }

    @Test func releaseOnExitShutdown() throws {
        #expect(try load(env: ["RELEASE_ON_EXIT": "shutdown"]).releaseOnExit == .shutdown)
        #expect(try load(env: ["RELEASE_ON_EXIT": "Shutdown"]).releaseOnExit == .shutdown)
    }

    @Test func logLevelsIncludingKubeIPv2Spellings() throws {
        for level in LogLevelSetting.allCases {
            #expect(try load(flags: ["log-level": level.rawValue]).logLevel == level)
        }
        #expect(try load(env: ["LOG_LEVEL": "warn"]).logLevel == .warning)
        #expect(try load(env: ["LOG_LEVEL": "fatal"]).logLevel == .critical)
        #expect(try load(env: ["LOG_LEVEL": "INFO"]).logLevel == .info)
    }

    @Test func cloudChoices() throws {
        #expect(try load(env: ["CLOUD": "aws"]).cloud == .aws)
        #expect(try load(env: ["CLOUD": "GCP"]).cloud == .gcp)
        #expect(try load(flags: ["cloud": "simulated"]).cloud == .simulated)
        #expect(try load(flags: ["cloud": "auto"], env: ["CLOUD": "aws"]).cloud == nil)
    }

    @Test func orderByParsesThroughTheCore() throws {
        let settings = try load(env: ["ORDER_BY": "Tag:priority desc"])
        #expect(settings.orderBy == AddressOrdering(field: "Tag:priority", descending: true))
        #expect(try load(flags: ["order-by": ""], env: ["ORDER_BY": "PublicIp"]).orderBy == nil)
    }

    // MARK: ipv6 and ip-families

    @Test func ipv6AloneMeansIPv6Only() throws {
        let settings = try load(env: ["IPV6": "true"])
        #expect(settings.families == [.ipv6])
        #expect(settings.ipv6)
    }

    @Test func ipFamiliesBothAndInAnyOrder() throws {
        #expect(try load(flags: ["ip-families": "ipv4,ipv6"]).families == [.ipv4, .ipv6])
        #expect(try load(flags: ["ip-families": " IPv6 , ipv4 "]).families == [.ipv4, .ipv6])
        #expect(try load(flags: ["ip-families": "ipv6"]).families == [.ipv6])
    }

    @Test func ipv6WithIPFamiliesIncludingIPv6() throws {
        let settings = try load(flags: ["ipv6": "true", "ip-families": "ipv4,ipv6"])
        #expect(settings.families == [.ipv4, .ipv6])
    }

    @Test func ipv6ConflictingWithIPFamiliesNamesBoth() throws {
        let error = try loadError(flags: ["ip-families": "ipv4"], env: ["IPV6": "true"])
        #expect(error.code == .invalidSetting)
        #expect(error.setting == "ip-families")
        #expect(error.message.contains("ipv6 is true (from environment IPV6)"))
        #expect(error.message.contains("ip-families is 'ipv4' (from flag --ip-families)"))
        #expect(error.message.contains("expected"))
    }

    @Test func ipv6FalseLeavesIPFamiliesAlone() throws {
        #expect(try load(flags: ["ipv6": "false", "ip-families": "ipv6"]).families == [.ipv6])
    }

    // MARK: Examples in the table

    @Test(arguments: SettingsTable.all.map(\.key))
    func everyTableExampleIsAccepted(key: String) throws {
        let spec = try #require(SettingsTable.spec(for: key))
        if key == "config" {
            _ = try load(flags: [key: spec.example], files: [spec.example: ""])
        } else {
            let settings = try load(flags: [key: spec.example])
            #expect(settings.origin(of: key) == .flag(spec.flag))
        }
    }
}
