import KubeIPCore
import Testing
@testable import KubeIPConfig

@Suite struct SettingsTests {
    @Test func originsDescribeThemselves() {
        #expect(SettingOrigin.flag("--retry-interval").description == "flag --retry-interval")
        #expect(SettingOrigin.environment("RETRY_INTERVAL").description == "environment RETRY_INTERVAL")
        #expect(SettingOrigin.file(path: "/etc/kubeip/kubeip.yaml", line: 3).description == "/etc/kubeip/kubeip.yaml:3")
        #expect(SettingOrigin.default.description == "default")
    }

    @Test func originOfAnUnsetOrUnknownKeyIsDefault() {
        var settings = Settings()
        settings.origins["region"] = .environment("REGION")
        #expect(settings.origin(of: "region") == .environment("REGION"))
        #expect(settings.origin(of: "project") == .default)
        #expect(settings.origin(of: "no-such-key") == .default)
    }

    @Test func defaultValuesInCanonicalForm() {
        let settings = Settings()
        let shown = Dictionary(uniqueKeysWithValues: SettingsTable.all.map { ($0.key, settings.value(of: $0.key)) })
        #expect(shown == [
            "filter": "", "order-by": "", "retry-interval": "1m0s", "retry-attempts": "0",
            "reconcile-interval": "5m0s", "release-on-exit": "true", "log-level": "info", "json": "false",
            "region": "", "project": "", "ipv6": "false", "ip-families": "ipv4", "cloud": "auto",
            "mode": "auto", "config": "/etc/kubeip/kubeip.yaml", "node-name": "", "kubeconfig": "",
            "lease-namespace": "default", "lease-duration": "5s", "taint-key": "", "kube-allow-insecure-tls": "false",
            "metrics-address": "",
        ])
        #expect(settings.value(of: "nope") == nil)
    }

    @Test func loadedValuesInCanonicalForm() throws {
        let settings = try SettingsLoader.load(
            flags: ["retry-interval": "90s", "order-by": "PublicIp desc", "ip-families": "ipv6,ipv4",
                    "release-on-exit": "shutdown", "cloud": "aws", "region": "eu-west-1"],
            environment: [:], fileSystem: InMemoryFileSystem())
        #expect(settings.value(of: "retry-interval") == "1m30s")
        #expect(settings.value(of: "order-by") == "PublicIp desc")
        #expect(settings.value(of: "ip-families") == "ipv4,ipv6")
        #expect(settings.value(of: "release-on-exit") == "shutdown")
        #expect(settings.value(of: "cloud") == "aws")
        #expect(settings.value(of: "region") == "eu-west-1")
    }

    @Test func canonicalValuesLoadBackToTheSameSettings() throws {
        let original = try SettingsLoader.load(
            flags: ["retry-interval": "1.5h", "reconcile-interval": "2m30s", "retry-attempts": "7",
                    "order-by": "Tag:rank", "log-level": "notice", "json": "1", "ip-families": "ipv4,ipv6",
                    "filter": "Name=domain,Values=vpc", "project": "p-1", "cloud": "gcp"],
            environment: [:], fileSystem: InMemoryFileSystem())
        // Kube settings given at all mean kube mode: round-trip them in kube mode below.
        var flags: [String: String] = [:]
        for spec in SettingsTable.all where spec.key != "config" && !SettingsLoader.kubeKeys.contains(spec.key) {
            flags[spec.key] = original.value(of: spec.key)
        }
        var reloaded = try SettingsLoader.load(flags: flags, environment: [:], fileSystem: InMemoryFileSystem())
        reloaded.origins = original.origins
        #expect(reloaded == original)

        let kube = try SettingsLoader.load(
            flags: ["node-name": "n1", "lease-namespace": "kube-system", "lease-duration": "90", "taint-key": "a.b/c",
                    "kubeconfig": "/k", "kube-allow-insecure-tls": "yes", "metrics-address": ":9808"],
            environment: [:], fileSystem: InMemoryFileSystem())
        var kubeFlags: [String: String] = [:]
        for spec in SettingsTable.all where spec.key != "config" { kubeFlags[spec.key] = kube.value(of: spec.key) }
        var kubeReloaded = try SettingsLoader.load(flags: kubeFlags, environment: [:], fileSystem: InMemoryFileSystem())
        kubeReloaded.origins = kube.origins
        kubeReloaded.modeReason = kube.modeReason
        #expect(kubeReloaded == kube)
        #expect(kube.value(of: "lease-duration") == "1m30s")
    }

    @Test func engineSettingsCarryTheEngineShare() throws {
        let settings = try SettingsLoader.load(
            flags: ["retry-interval": "30s", "retry-attempts": "4", "reconcile-interval": "1m",
                    "order-by": "PublicIp", "ip-families": "ipv4,ipv6"],
            environment: [:], fileSystem: InMemoryFileSystem())
        #expect(settings.engineSettings == EngineSettings(
            families: [.ipv4, .ipv6], ordering: AddressOrdering(field: "PublicIp"), retryInterval: .seconds(30),
            retryAttempts: 4, reconcileInterval: .seconds(60)))
        #expect(Settings().engineSettings == EngineSettings())
    }
}
