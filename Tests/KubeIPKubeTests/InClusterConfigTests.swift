import Foundation
import KubeIPConfig
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPKube

@Suite struct InClusterConfigTests {
    private static let ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
    private let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]

    private func serviceAccount(token: String? = "sa-token-1", ca: String? = ca, namespace: String? = "kube-system") throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        if let token { try directory.write("token", token) }
        if let ca { try directory.write("ca.crt", ca) }
        if let namespace { try directory.write("namespace", namespace) }
        return directory
    }

    @Test func readsTheServiceAccount() async throws {
        let directory = try serviceAccount()
        let connection = try InClusterConfig.connection(environment: environment, directory: directory.path)
        #expect(connection.server == "https://10.96.0.1:443")
        #expect(connection.tls.trustedCertificates == .data(Array(Self.ca.utf8)))
        #expect(connection.namespace == "kube-system")
        guard case .tokenFile(let path) = connection.credentials else { Issue.record("no token file"); return }
        #expect(path == directory.path + "/token")
        #expect(connection.origin == "in-cluster service account (\(directory.path))")
        let token = try await connection.credentials.provider(environment: [:]).credential()
        #expect(token.token?.value == "sa-token-1")
    }

    @Test func anIPv6HostGoesInBrackets() throws {
        let directory = try serviceAccount()
        let connection = try InClusterConfig.connection(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443"], directory: directory.path)
        #expect(connection.server == "https://[fd00:10:96::1]:6443")
    }

    @Test func missingPieces() throws {
        let noToken = try serviceAccount(token: nil)
        let tokenError = try #require(throws: KubeIPError.self) {
            try InClusterConfig.connection(environment: environment, directory: noToken.path)
        }
        #expect(tokenError.code == .authentication)
        #expect(tokenError.message.contains("automountServiceAccountToken"))
        let noCA = try serviceAccount(ca: nil)
        #expect(throws: KubeIPError.self) { try InClusterConfig.connection(environment: environment, directory: noCA.path) }
        let noNamespace = try serviceAccount(namespace: nil)
        #expect(try InClusterConfig.connection(environment: environment, directory: noNamespace.path).namespace == nil)
        let badPort = try #require(throws: KubeIPError.self) {
            try InClusterConfig.connection(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "https"],
                                           directory: noNamespace.path)
        }
        #expect(badPort.setting == "kubeconfig")
        #expect(!InClusterConfig.isAvailable(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1"]))
    }

    @Test func resolveOrder() throws {
        let directory = try serviceAccount()
        let kubeconfig = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'https://from-file:6443'}\n"
        let files = InMemoryFileSystem(["/etc/kubeip/kubeconfig": kubeconfig, "/env/config": kubeconfig.replacing("from-file", with: "from-env"),
                                        "/root/.kube/config": kubeconfig.replacing("from-file", with: "from-home"),
                                        directory.path + "/token": "t", directory.path + "/ca.crt": Self.ca])
        func server(_ path: String?, _ env: [String: String]) throws -> String {
            try KubeConnection.resolve(kubeconfigPath: path, environment: env, fileSystem: files,
                                       serviceAccountDirectory: directory.path).server
        }
        var env = environment
        env["KUBECONFIG"] = "/env/config"
        env["HOME"] = "/root"
        #expect(try server("/etc/kubeip/kubeconfig", env) == "https://from-file:6443")
        #expect(try server(nil, env) == "https://from-env:6443")
        env["KUBECONFIG"] = ""
        #expect(try server(nil, env) == "https://10.96.0.1:443")
        #expect(try server(nil, ["HOME": "/root"]) == "https://from-home:6443")
        let nothing = try #require(throws: KubeIPError.self) { try server(nil, ["HOME": "/nobody"]) }
        #expect(nothing.setting == "kubeconfig")
        #expect(throws: KubeIPError.self) { try server("/etc/kubeip/missing", env) }
    }
}
