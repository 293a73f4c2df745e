import KubeIPCore
import Testing
@testable import KubeIPConfig

@Suite struct YAMLDocumentTests {
    private let path = "/etc/kubeip/kubeip.yaml"

    private func parse(_ text: String) throws -> YAMLDocument { try YAMLDocument(parsing: text, path: path) }

    /// The error `text` raises, which must name the file.
    private func failure(_ text: String) throws -> KubeIPError {
        let error = try #require(throws: KubeIPError.self) { try parse(text) }
        #expect(error.code == .invalidSetting)
        #expect(error.message.contains(path))
        return error
    }

    @Test func readsScalarsWithTheirLines() throws {
        let document = try parse("""
            # kubeip settings

            filter: Name=tag:env,Values=prod
            retry-interval: 30s   # a trailing comment
            region: "eu-west-1"
            project: 'my-project'
            json: yes
            """)
        #expect(document.entries.map(\.key) == ["filter", "retry-interval", "region", "project", "json"])
        #expect(document["filter"] == YAMLDocument.Entry(key: "filter", value: .scalar("Name=tag:env,Values=prod"), line: 3))
        #expect(document["retry-interval"]?.value == .scalar("30s"))
        #expect(document["retry-interval"]?.line == 4)
        #expect(document["region"]?.value == .scalar("eu-west-1"))
        #expect(document["project"]?.value == .scalar("my-project"))
        // YAML's type guessing never changes a value: `yes` stays text for the loader.
        #expect(document["json"]?.value == .scalar("yes"))
        #expect(document.path == path)
    }

    @Test func unquotedNothingIsNullButQuotedEmptyIsAValue() throws {
        let document = try parse("region:\nproject: ~\norder-by: null\nfilter: \"\"\ncloud: 'null'\n")
        #expect(document["region"]?.value == .null)
        #expect(document["project"]?.value == .null)
        #expect(document["order-by"]?.value == .null)
        #expect(document["filter"]?.value == .scalar(""))
        #expect(document["cloud"]?.value == .scalar("null"))
    }

    @Test func readsFlowAndBlockSequences() throws {
        let document = try parse("""
            ip-families: [ipv4, ipv6]
            filter:
              - Name=tag:env,Values=prod
              - "Name=domain,Values=vpc"
            """)
        #expect(document["ip-families"]?.value == .sequence(["ipv4", "ipv6"]))
        #expect(document["filter"]?.value == .sequence(["Name=tag:env,Values=prod", "Name=domain,Values=vpc"]))
        #expect(document["filter"]?.line == 2)
    }

    @Test(arguments: ["", "\n\n", "# only a comment\n# and another\n", "---\n", "---\n# nothing\n...\n"])
    func emptyFilesAreEmptyMappings(text: String) throws {
        #expect(try parse(text).entries.isEmpty)
    }

    @Test func explicitDocumentMarkersAreFine() throws {
        let document = try parse("---\nmode: host\n...\n")
        #expect(document["mode"] == YAMLDocument.Entry(key: "mode", value: .scalar("host"), line: 2))
    }

    @Test func rejectsNestedMappingsNamingLineAndKey() throws {
        let error = try failure("mode: host\naws:\n  region: eu-west-1\n")
        #expect(error.message.contains("\(path):3"))
        #expect(error.message.contains("nested mapping"))
        #expect(error.setting == "aws")
    }

    @Test func rejectsFlowMappingsAndListsOfLists() throws {
        #expect(try failure("filter: {a: b}\n").message.contains(":1:"))
        let error = try failure("ip-families:\n  - [ipv4]\n")
        #expect(error.message.contains("\(path):2"))
        #expect(error.setting == "ip-families")
    }

    @Test func rejectsEmptyListItems() throws {
        let error = try failure("ip-families:\n  - ipv4\n  -\n")
        #expect(error.message.contains("empty item"))
    }

    @Test func reportsMalformedYAMLWithItsLine() throws {
        let unclosed = try failure("mode: host\nfilter: [a, b\n")
        #expect(unclosed.message.hasPrefix("\(path):"))
        let colon = try failure("# header\nmode: host: kube\n")
        #expect(colon.message.contains("\(path):2"))
        let tab = try failure("mode: host\n\tregion: x\n")
        #expect(tab.message.contains("\(path):2"))
        let quote = try failure("mode: host\nregion: \"eu-west-1\n")
        #expect(quote.message.contains(path))
    }

    @Test func rejectsNonMappingRoots() throws {
        #expect(try failure("just a sentence\n").message.contains("\(path):1"))
        #expect(try failure("- filter\n- mode\n").message.contains("top level"))
    }

    @Test func rejectsDuplicateKeys() throws {
        let error = try failure("mode: host\nregion: a\nmode: host\n")
        #expect(error.message.contains("\(path):3"))
        #expect(error.message.contains("line 1"))
        #expect(error.setting == "mode")
    }

    @Test func rejectsSeveralDocuments() throws {
        let error = try failure("mode: host\n---\nmode: host\n")
        #expect(error.message.contains("\(path):2"))
        #expect(error.message.contains("one YAML document"))
    }

    @Test func rejectsAliases() throws {
        let error = try failure("region: &r eu-west-1\nproject: *r\n")
        #expect(error.message.contains("\(path):2"))
        #expect(error.setting == "project")
    }

    @Test func rejectsComplexKeys() throws {
        #expect(try failure("? [a, b]\n: c\n").message.contains("setting name"))
    }

    @Test func keepsUnicodeAndByteOrderMark() throws {
        let document = try parse("\u{FEFF}filter: \"labels.owner=zoë\"\n")
        #expect(document["filter"]?.value == .scalar("labels.owner=zoë"))
    }
}
