@testable import KubeIPCLI
import KubeIPConfig
import Testing

@Suite struct SettingOptionsTests {
    @Test func everySettingHasAFlagOfTheSameName() {
        // `json` (LOG_JSON) is declared by `run`, because `check` and `status` use --json for output.
        let table = Set(SettingsTable.all.map(\.key)).subtracting(["json"])
        #expect(Set(SettingOptions.keys) == table)
    }

    @Test func givenFlagsMapToSettingKeys() throws {
        let options = try SettingOptions.parse(["--filter", "Name=tag:a,Values=b", "--retry-interval", "2s", "--ipv6"])
        #expect(options.given == ["filter": "Name=tag:a,Values=b", "retry-interval": "2s", "ipv6": "true"])
        #expect(Set(options.given.keys).isSubset(of: Set(SettingOptions.keys)))
    }
}
