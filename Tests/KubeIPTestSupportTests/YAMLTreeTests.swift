import KubeIPCore
import KubeIPSimulator
import KubeIPTestSupport
import Testing

@Suite("YAMLTree and KubernetesDoubleSettings")
struct YAMLTreeTests {
    @Test("documents: typed plain scalars, quoted strings, nested maps and lists, empty documents skipped")
    func documents() throws {
        let documents = try YAMLTree.documents("""
        a: 1
        b: "1"
        c: [true, null, 2.5, x]
        d: {e: [{f: g}]}
        ---
        ---
        kind: Role
        """)
        #expect(documents.count == 2)
        #expect(documents[0] == ["a": 1, "b": "1", "c": [true, nil, .number(2.5), "x"], "d": ["e": [["f": "g"]]]])
        #expect(documents[1] == ["kind": "Role"])
        #expect(try YAMLTree.document(#"{"json": ["too"]}"#) == ["json": ["too"]])
        #expect(throws: KubeIPError.self) { try YAMLTree.documents("a: &x 1\nb: *x") }
        #expect(throws: KubeIPError.self) { try YAMLTree.documents("a: [") }
    }

    @Test("the kube-api-double settings: users, service accounts, RBAC files, nodes")
    func settings() async throws {
        let text = """
        users:
          - {token: t1, name: admin, groups: ["system:masters"]}
          - {token: t2, serviceAccount: kube-system/kubeip}
        rbacFiles: [rbac.yaml]
        nodes:
          - {name: node-1, providerID: "aws:///us-east-1a/i-1", taints: [{key: k, effect: NoSchedule}]}
        """
        let settings = try KubernetesDoubleSettings(parsing: text, path: "/etc/double.yaml", directory: "/etc") { path in
            path == "/etc/rbac.yaml" ? shippedRBAC : nil
        }
        #expect(settings.configuration.users["t2"]?.name == kubeipUser)
        #expect(settings.configuration.users["t1"]?.groups.contains("system:masters") == true)
        #expect(settings.configuration.rbac?.grants.count == 2)
        let double = await settings.makeDouble()
        #expect(await double.node("node-1")?[path: ["spec", "taints"]] == [["key": "k", "effect": "NoSchedule"]])
        #expect(throws: KubeIPError.self) {
            try KubernetesDoubleSettings(parsing: "users: [{name: x}]", path: "p", directory: ".") { _ in nil }
        }
        #expect(throws: KubeIPError.self) {
            try KubernetesDoubleSettings(parsing: "rbacFiles: [missing.yaml]", path: "p", directory: ".") { _ in nil }
        }
    }
}
