import KubeIPCore
import Testing
@testable import KubeIPConfig

@Suite struct SettingsDocumentationTests {
    @Test func markdownHasAHeaderAndOneRowPerSetting() {
        let lines = SettingsDocumentation.markdownTable().split(separator: "\n").map(String.init)
        #expect(lines[0] == "| Setting (file key / flag) | Environment | Default | What it does |")
        #expect(lines[1] == "|---|---|---|---|")
        let rows = Array(lines.dropFirst(2))
        #expect(rows.count == SettingsTable.all.count)
        for (row, spec) in zip(rows, SettingsTable.all) {
            #expect(row.contains("`\(spec.flag)`"))
            for name in spec.environment { #expect(row.contains("`\(name)`")) }
            // Four cells: five unescaped pipes.
            let pipes = row.indices.filter { row[$0] == "|" && (($0 == row.startIndex) || row[row.index(before: $0)] != "\\") }
            #expect(pipes.count == 5, "row for \(spec.key): \(row)")
            #expect(!row.contains("<"), "raw HTML-like text in \(spec.key)")
        }
        #expect(rows[5].contains("true (package: `shutdown`)"))
    }

    @Test func manSectionHasOneEntryPerSettingAndEscapes() {
        let man = SettingsDocumentation.manSection()
        let lines = man.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == ".SH SETTINGS")
        #expect(lines.filter { $0 == ".TP" }.count == SettingsTable.all.count)
        for spec in SettingsTable.all {
            #expect(man.contains("\\fB" + spec.flag.replacing("-", with: "\\-") + "\\fR"))
        }
        for line in lines {
            // Requests are only the ones we emit; no text line starts with a control character.
            if line.hasPrefix(".") || line.hasPrefix("'") { #expect(line == ".SH SETTINGS" || line == ".TP") }
            // Every hyphen is escaped, and nothing outside ASCII is left raw.
            for index in line.indices where line[index] == "-" {
                #expect(index != line.startIndex && line[line.index(before: index)] == "\\", "\(line)")
            }
            #expect(line.unicodeScalars.allSatisfy { $0.isASCII }, "\(line)")
        }
        #expect(man.contains("\\[u00B1]20%"))
        #expect(man.hasSuffix("\n"))
    }

    @Test func roffEscaping() {
        #expect(SettingsDocumentation.roffText("a-b\\c") == "a\\-b\\ec")
        #expect(SettingsDocumentation.roffText("µs") == "\\[u00B5]s")
        #expect(SettingsDocumentation.roffLine(".hidden") == "\\&.hidden")
        #expect(SettingsDocumentation.roffLine("'quoted") == "\\&'quoted")
        #expect(SettingsDocumentation.roffLine("plain") == "plain")
    }

    @Test func packagedConfigFileParsesAndSetsOnlyThePackagedValues() throws {
        let text = SettingsDocumentation.configFile()
        let document = try YAMLDocument(parsing: text, path: "/etc/kubeip/kubeip.yaml")
        #expect(document.entries.map(\.key) == ["release-on-exit"])
        #expect(document["release-on-exit"]?.value == .scalar("shutdown"))
        let settings = try SettingsLoader.load(flags: [:], environment: [:],
                                               fileSystem: InMemoryFileSystem(["/etc/kubeip/kubeip.yaml": text]))
        var expected = Settings()
        expected.releaseOnExit = .shutdown
        expected.filesRead = ["/etc/kubeip/kubeip.yaml"]
        expected.origins = ["release-on-exit": settings.origin(of: "release-on-exit")]
        #expect(settings == expected)
    }

    @Test func everyCommentedKeyIsKnownAndItsDefaultIsValid() throws {
        let text = SettingsDocumentation.configFile()
        // Uncomment every `# key: default` line (not the `# e.g.` lines) and read the file back.
        var keys: [String] = []
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("# "), let colon = line.firstIndex(of: ":") else { return String(line) }
            let key = line[line.index(line.startIndex, offsetBy: 2)..<colon]
            guard !key.isEmpty, key.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else { return String(line) }
            guard key != "accepted", key != "default" else { return String(line) }
            keys.append(String(key))
            return String(line.dropFirst(2))
        }.joined(separator: "\n")
        let document = try YAMLDocument(parsing: uncommented, path: "/k.yaml")
        for entry in document.entries { #expect(SettingsTable.spec(for: entry.key) != nil, "\(entry.key)") }
        #expect(Set(document.entries.map(\.key)) == Set(SettingsTable.all.filter(\.allowedInFile).map(\.key)))
        #expect(keys.count == document.entries.count - 1)   // release-on-exit is already set
        let settings = try SettingsLoader.load(flags: ["config": "/k.yaml"], environment: [:],
                                               fileSystem: InMemoryFileSystem(["/k.yaml": uncommented]))
        #expect(settings.engineSettings == EngineSettings())
        #expect(settings.releaseOnExit == .shutdown)
        #expect(settings.logLevel == .info && settings.cloud == nil && settings.region == nil)
    }

    @Test func exampleLinesUseValidValues() throws {
        let text = SettingsDocumentation.configFile()
        for line in text.split(separator: "\n") where line.hasPrefix("# e.g. ") {
            let document = try YAMLDocument(parsing: String(line.dropFirst(7)), path: "/e.yaml")
            let entry = try #require(document.entries.first)
            guard case .scalar(let value) = entry.value else { Issue.record("\(line)"); continue }
            _ = try SettingsLoader.load(flags: [entry.key: value], environment: [:], fileSystem: InMemoryFileSystem())
        }
    }

    @Test func commentLinesStayNarrow() {
        for line in SettingsDocumentation.configFile().split(separator: "\n") where line.hasPrefix("#") {
            #expect(line.count <= 100 || !line.dropFirst(2).contains(" "), "\(line)")
        }
    }

    @Test(arguments: SettingsDocumentation.Format.allCases)
    func renderingIsDeterministic(format: SettingsDocumentation.Format) {
        let first = SettingsDocumentation.render(format)
        #expect(first == SettingsDocumentation.render(format))
        #expect(!first.isEmpty && first.hasSuffix("\n"))
    }

    @Test func renderDispatches() {
        #expect(SettingsDocumentation.render(.markdown) == SettingsDocumentation.markdownTable())
        #expect(SettingsDocumentation.render(.man) == SettingsDocumentation.manSection())
        #expect(SettingsDocumentation.render(.yaml) == SettingsDocumentation.configFile())
        #expect(SettingsDocumentation.Format(rawValue: "yaml") == .yaml)
    }
}
