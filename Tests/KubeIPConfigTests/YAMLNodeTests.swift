import KubeIPCore
import Testing
@testable import KubeIPConfig

@Suite struct YAMLNodeTests {
    private let path = "/home/me/.kube/config"

    private func parse(_ text: String) throws -> YAMLNode {
        try #require(try YAMLNode.parse(text, path: path, setting: "kubeconfig"))
    }

    private func failure(_ text: String, maxBytes: Int = YAMLNode.defaultMaxBytes, maxDepth: Int = 8) throws -> KubeIPError {
        let error = try #require(throws: KubeIPError.self) {
            try YAMLNode.parse(text, path: path, setting: "kubeconfig", maxBytes: maxBytes, maxDepth: maxDepth)
        }
        #expect(error.code == .invalidSetting)
        #expect(error.setting == "kubeconfig")
        #expect(error.message.contains(path))
        return error
    }

    @Test func readsNestedMappingsAndSequencesWithLines() throws {
        let root = try parse("""
            apiVersion: v1
            clusters:
            - name: prod
              cluster:
                server: https://10.0.0.1:6443
                insecure-skip-tls-verify: true
            users:
              - name: "me"
                user: {token: abc}
            current-context: ~
            """)
        #expect(root["apiVersion"]?.text == "v1")
        let clusters = try #require(root["clusters"]?.items)
        #expect(clusters.count == 1)
        #expect(clusters[0].line == 3)
        #expect(clusters[0]["name"]?.text == "prod")
        #expect(clusters[0]["cluster"]?["server"]?.text == "https://10.0.0.1:6443")
        #expect(clusters[0]["cluster"]?["server"]?.line == 5)
        // No type guessing: `true` is text for the reader to interpret.
        #expect(clusters[0]["cluster"]?["insecure-skip-tls-verify"]?.text == "true")
        #expect(root["users"]?.items?.first?["user"]?["token"]?.text == "abc")
        #expect(root["current-context"]?.isNull == true)
        #expect(root["current-context"]?.text == nil)
        #expect(root["missing"] == nil)
        #expect(root.kindDescription == "a mapping")
    }

    @Test func emptyStreamsHaveNoDocument() throws {
        #expect(try YAMLNode.parse("", path: path) == nil)
        #expect(try YAMLNode.parse("# nothing\n", path: path) == nil)
        #expect(try YAMLNode.parse("---\n", path: path)?.isNull == true)
    }

    @Test func quotedNullIsText() throws {
        let root = try parse("a: 'null'\nb: \"\"\nc:\nd: !!str null\n")
        #expect(root["a"]?.text == "null")
        #expect(root["b"]?.text == "")
        #expect(root["c"]?.isNull == true)
        #expect(root["d"]?.text == "null")
    }

    @Test func aliasesAreKeptUnresolved() throws {
        let root = try parse("a: &x {k: v}\nb: *x\n")
        #expect(root["a"]?["k"]?.text == "v")
        #expect(root["b"]?.content == .alias("x"))
        #expect(root["b"]?.line == 2)
        #expect(root["b"]?.kindDescription == "a YAML alias")
    }

    @Test func duplicateKeysAreKeptForTheReader() throws {
        let root = try parse("a: 1\na: 2\n")
        #expect(root.pairs?.count == 2)
        #expect(root["a"]?.text == "1")
    }

    @Test func syntaxErrorsNameTheLineAndTheHint() throws {
        let error = try #require(throws: KubeIPError.self) {
            try YAMLNode.parse("a: b\nc: [d\n", path: path, setting: "kubeconfig", syntaxHint: "is it a kubeconfig?")
        }
        #expect(error.message.hasPrefix("\(path):"))
        #expect(error.message.hasSuffix("; is it a kubeconfig?"))
    }

    @Test func oneDocumentOnly() throws {
        #expect(try failure("a: 1\n---\nb: 2\n").message.contains("\(path):2: expected one YAML document"))
    }

    @Test func inputSizeIsBounded() throws {
        let error = try failure(String(repeating: "# padding\n", count: 20), maxBytes: 100)
        #expect(error.message.contains("larger than 100 bytes"))
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        #expect(try failure(deep).message.contains("deeper than 8 levels"))
        let fine = String(repeating: "[", count: 7) + String(repeating: "]", count: 7)
        #expect(try YAMLNode.parse(fine, path: path, maxDepth: 8) != nil)
    }
}
