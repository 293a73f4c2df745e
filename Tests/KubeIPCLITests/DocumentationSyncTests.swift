import Foundation
import KubeIPConfig
import Testing

/// The README's settings table, the packaged kubeip.yaml and the man page are generated from
/// `SettingsTable`; these tests fail when a committed copy drifts from the table.
@Suite struct DocumentationSyncTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func read(_ relative: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(relative), encoding: .utf8)
    }

    @Test func readmeSettingsTableIsGenerated() throws {
        let readme = try read("README.md")
        let begin = try #require(readme.range(of: "<!-- settings:begin -->\n"))
        let end = try #require(readme.range(of: "<!-- settings:end -->"))
        let committed = String(readme[begin.upperBound..<end.lowerBound])
        #expect(committed == SettingsDocumentation.markdownTable(),
                "regenerate with: kubeip settings --format markdown (between the settings markers of README.md)")
    }

    @Test func packagedConfigFileIsGenerated() throws {
        let path = Self.root.appendingPathComponent("etc/kubeip/kubeip.yaml").path
        try #require(FileManager.default.fileExists(atPath: path))
        #expect(try read("etc/kubeip/kubeip.yaml") == SettingsDocumentation.configFile(),
                "regenerate with: kubeip settings --format yaml > etc/kubeip/kubeip.yaml")
    }
}
