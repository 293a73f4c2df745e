import Testing
@testable import KubeIPConfig

@Suite struct SettingSpecTests {
    @Test func tableHoldsEverySettingOnce() {
        let keys = SettingsTable.all.map(\.key)
        #expect(keys == ["filter", "order-by", "retry-interval", "retry-attempts", "reconcile-interval",
                         "release-on-exit", "log-level", "json", "region", "project", "ipv6", "ip-families",
                         "cloud", "mode", "node-name", "kubeconfig", "lease-namespace", "lease-duration", "taint-key",
                         "kube-allow-insecure-tls", "metrics-address", "config"])
        let variables = SettingsTable.all.flatMap(\.environment)
        #expect(Set(variables).count == variables.count)
    }

    @Test func environmentNamesMatchKubeIPv2() {
        let expected = [
            "filter": "FILTER", "order-by": "ORDER_BY", "retry-interval": "RETRY_INTERVAL",
            "retry-attempts": "RETRY_ATTEMPTS", "release-on-exit": "RELEASE_ON_EXIT", "log-level": "LOG_LEVEL",
            "json": "LOG_JSON", "region": "REGION", "project": "PROJECT", "ipv6": "IPV6",
            "reconcile-interval": "RECONCILE_INTERVAL", "ip-families": "IP_FAMILIES", "cloud": "CLOUD",
            "mode": "MODE", "config": "KUBEIP_CONFIG", "node-name": "NODE_NAME", "kubeconfig": "KUBECONFIG",
            "lease-namespace": "LEASE_NAMESPACE", "lease-duration": "LEASE_DURATION", "taint-key": "TAINT_KEY",
            "kube-allow-insecure-tls": "KUBE_ALLOW_INSECURE_TLS", "metrics-address": "METRICS_ADDRESS",
        ]
        for spec in SettingsTable.all { #expect(spec.environment == [expected[spec.key]!]) }
    }

    @Test func specsDescribeThemselves() throws {
        for spec in SettingsTable.all {
            #expect(!spec.summary.isEmpty && !spec.accepted.isEmpty && !spec.example.isEmpty)
            #expect(!spec.defaultDescription.isEmpty)
            #expect(spec.flag == "--" + spec.key)
            #expect(spec.id == spec.key)
            #expect((spec.kind == .boolean) == (spec.valueName == nil))
        }
        let release = try #require(SettingsTable.spec(for: "release-on-exit"))
        #expect(release.packagedValue == "shutdown")
        #expect(release.defaultValue == "true")
        #expect(SettingsTable.all.filter { $0.packagedValue != nil }.map(\.key) == ["release-on-exit"])
        #expect(SettingsTable.all.filter { !$0.allowedInFile }.map(\.key) == ["config"])
        #expect(SettingsTable.spec(for: "filter")?.listSeparator == ";")
        #expect(SettingsTable.spec(for: "ip-families")?.listSeparator == ",")
        #expect(SettingsTable.spec(for: "retry-interval")?.valueName == "duration")
        #expect(SettingsTable.spec(for: "nope") == nil)
    }

    @Test(arguments: [
        ("retry-intervall", "retry-interval"), ("retry_interval", "retry-interval"),
        ("RETRY_ATTEMPTS", "retry-attempts"), ("loglevel", "log-level"), ("ipv-6", "ipv6"),
        ("ip-family", "ip-families"), ("reconcile", "reconcile-interval"), ("filters", "filter"),
    ])
    func closestKey(unknown: String, suggestion: String) {
        #expect(SettingsTable.closestKey(to: unknown) == suggestion)
    }

    @Test func nothingCloseMeansNoSuggestion() {
        #expect(SettingsTable.closestKey(to: "zebra-quartz-volume") == nil)
        #expect(SettingsTable.closestKey(to: "retry") == nil)   // two settings start with it
    }

    @Test func editDistance() {
        #expect(SettingsTable.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(SettingsTable.editDistance(Array(""), Array("abc")) == 3)
        #expect(SettingsTable.editDistance(Array("abc"), Array("")) == 3)
        #expect(SettingsTable.editDistance(Array("mode"), Array("mode")) == 0)
    }
}
