import Foundation
import KubeIPConfig
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPKube

@Suite struct KubeconfigLoaderTests {
    private static let ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
    private static let key = "-----BEGIN PRIVATE KEY-----\nMIIEkeymaterial\n-----END PRIVATE KEY-----\n"
    private static var caData: String { Data(ca.utf8).base64EncodedString() }

    /// A kubeconfig with one context `ctx` → cluster `c` (`cluster` lines) and user `u` (`user` lines).
    private static func config(cluster: String = "server: https://10.0.0.1:6443",
                               user: String? = "token: static-token-xyz", namespace: String? = nil) -> String {
        var text = "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n- name: c\n  cluster:\n"
        text += cluster.split(separator: "\n").map { "    \($0)\n" }.joined()
        text += "contexts:\n- name: ctx\n  context:\n    cluster: c\n"
        if user != nil { text += "    user: u\n" }
        if let namespace { text += "    namespace: \(namespace)\n" }
        if let user { text += "users:\n- name: u\n  user:\n" + user.split(separator: "\n").map { "    \($0)\n" }.joined() }
        return text
    }

    private func load(_ files: [String: String], paths: [String] = ["/home/me/.kube/config"], explicit: Bool = false,
                      context: String? = nil, allowInsecure: Bool = false) throws -> KubeConnection {
        try KubeconfigLoader(fileSystem: InMemoryFileSystem(files), allowInsecureTLS: allowInsecure)
            .connection(paths: paths, explicit: explicit, context: context)
    }

    private func failure(_ files: [String: String], paths: [String] = ["/home/me/.kube/config"],
                         allowInsecure: Bool = false) throws -> KubeIPError {
        let error = try #require(throws: KubeIPError.self) { try load(files, paths: paths, allowInsecure: allowInsecure) }
        #expect(error.setting == "kubeconfig")
        for secret in ["static-token-xyz", "MIIEkeymaterial", Self.caData] { #expect(!error.message.contains(secret)) }
        return error
    }

    @Test func aStaticTokenWithEmbeddedCA() throws {
        let connection = try load(["/home/me/.kube/config": Self.config(
            cluster: "server: https://10.0.0.1:6443/\ncertificate-authority-data: \(Self.caData)", namespace: "kube-system")])
        #expect(connection.server == "https://10.0.0.1:6443")
        #expect(connection.tls.trustedCertificates == .data(Array(Self.ca.utf8)))
        #expect(!connection.tls.skipsVerification)
        guard case .token(let token) = connection.credentials else { Issue.record("no token"); return }
        #expect(token.value == "static-token-xyz")
        #expect(connection.namespace == "kube-system")
        #expect(connection.origin == "kubeconfig /home/me/.kube/config, context ctx (cluster c, user u)")
        #expect(!"\(connection)".contains("static-token-xyz"))
    }

    @Test func relativePathsAreRelativeToTheFileThatNamesThem() throws {
        let connection = try load([
            "/home/me/.kube/config": Self.config(cluster: "server: https://k:6443\ncertificate-authority: certs/ca.crt",
                                                 user: "client-certificate: certs/me.crt\nclient-key: /abs/me.key\ntokenFile: ../token"),
            "/home/me/.kube/certs/ca.crt": Self.ca,
            "/home/me/.kube/certs/me.crt": Self.ca,
            "/abs/me.key": Self.key,
            "/home/me/token": "file-token",
        ])
        #expect(connection.tls.trustedCertificates == .data(Array(Self.ca.utf8)))
        #expect(connection.tls.clientCertificate == .data(Array(Self.ca.utf8)))
        #expect(connection.tls.clientKey == .data(Array(Self.key.utf8)))
        guard case .tokenFile(let path) = connection.credentials else { Issue.record("no token file"); return }
        #expect(path == "/home/me/token")
    }

    @Test func clientCertificateDataAndTLSServerName() throws {
        let key = Data(Self.key.utf8).base64EncodedString()
        let connection = try load(["/home/me/.kube/config": Self.config(
            cluster: "server: https://10.0.0.1\ntls-server-name: kube.internal",
            user: "client-certificate-data: \(Self.caData)\nclient-key-data: \(key)")])
        #expect(connection.tls.serverName == "kube.internal")
        #expect(connection.tls.clientKey == .data(Array(Self.key.utf8)))
        guard case .none = connection.credentials else { Issue.record("expected no bearer"); return }
        #expect(!"\(connection.tls)".contains("MIIEkeymaterial"))
    }

    @Test func mergingAsKubectlDoes() throws {
        let first = """
            current-context: ""
            clusters:
            - name: shared
              cluster: {server: "https://first:6443"}
            users:
            - name: me
              user: {token: first-token}
            """
        let second = """
            current-context: prod
            clusters:
            - name: shared
              cluster: {server: "https://second:6443"}
            - name: prod-cluster
              cluster: {server: "https://prod:6443", certificate-authority: ca.pem}
            contexts:
            - name: prod
              context: {cluster: prod-cluster, user: me}
            - name: other
              context: {cluster: shared, user: me}
            users:
            - name: me
              user: {token: second-token}
            """
        let files = ["/a/config": first, "/b/config": second, "/b/ca.pem": Self.ca]
        // The first file's `me` wins; the second file's current-context (the first's is empty) is used;
        // the CA path is relative to the second file; a missing file in the list is skipped.
        let prod = try load(files, paths: ["/a/config", "/missing/config", "/b/config"])
        #expect(prod.server == "https://prod:6443")
        #expect(prod.tls.trustedCertificates == .data(Array(Self.ca.utf8)))
        guard case .token(let token) = prod.credentials else { Issue.record("no token"); return }
        #expect(token.value == "first-token")
        #expect(prod.origin.contains("context prod"))
        // The first file to define a cluster wins too.
        let other = try load(files, paths: ["/a/config", "/b/config"], context: "other")
        #expect(other.server == "https://first:6443")
    }

    @Test func missingFiles() throws {
        #expect(try failure([:], paths: ["/x", "/y"]).message == "none of the kubeconfig files /x, /y exists")
        let error = try #require(throws: KubeIPError.self) { try load([:], paths: ["/etc/kubeip/kubeconfig"], explicit: true) }
        #expect(error.message == "kubeconfig /etc/kubeip/kubeconfig does not exist")
    }

    @Test func contextsClustersAndUsersMustExist() throws {
        let path = "/home/me/.kube/config"
        #expect(try failure([path: "clusters: []\n"]).message.contains("has no current-context"))
        #expect(try failure([path: "current-context: nope\n"]).message.contains("has no context 'nope'"))
        let noCluster = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: gone, user: u}\n"
        #expect(try failure([path: noCluster]).message.contains("names cluster 'gone', which kubeconfig \(path) does not define"))
        let noUser = Self.config().replacing("user: u\n", with: "user: ghost\n")
        #expect(try failure([path: noUser]).message.contains("names user 'ghost'"))
        #expect(try failure([path: Self.config(cluster: "insecure-skip-tls-verify: false")]).message.contains("cluster 'c' in kubeconfig \(path) has no server"))
        #expect(try failure([path: Self.config(cluster: "server: ftp://x")]).message.contains("not an https:// URL"))
    }

    @Test func insecureSkipTLSVerifyIsRefusedUnlessAllowed() throws {
        let files = ["/home/me/.kube/config": Self.config(cluster: "server: https://10.0.0.1:6443\ninsecure-skip-tls-verify: true")]
        let error = try failure(files)
        #expect(error.code == .invalidSetting)
        #expect(error.message.contains("cluster 'c' in kubeconfig /home/me/.kube/config sets insecure-skip-tls-verify: true"))
        #expect(error.message.contains("kube-allow-insecure-tls"))
        #expect(error.message.contains("KUBE_ALLOW_INSECURE_TLS=true"))
        let allowed = try load(files, allowInsecure: true)
        #expect(allowed.tls.skipsVerification)
        let both = ["/home/me/.kube/config": Self.config(
            cluster: "server: https://k\ninsecure-skip-tls-verify: true\ncertificate-authority-data: \(Self.caData)")]
        #expect(try failure(both, allowInsecure: true).message.contains("together with a certificate authority"))
    }

    @Test(arguments: [
        ("username: admin\npassword: hunter2", "username/password (basic auth)", "use a token, a client certificate or an exec plugin"),
        ("auth-provider:\n  name: gcp\n  config: {access-token: static-token-xyz}", "legacy auth-provider 'gcp'", "gke-gcloud-auth-plugin"),
        ("token: static-token-xyz\nas: someone-else", "impersonates another identity", "own credentials"),
        ("token: static-token-xyz\nexec: {apiVersion: client.authentication.k8s.io/v1, command: aws}", "both a token and an exec plugin", "keep one"),
        ("client-certificate-data: \(caData)", "client certificate but no client-key", ""),
        ("exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}", "apiVersion client.authentication.k8s.io/v1alpha1", "v1beta1"),
        ("exec: {apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Always}", "interactive terminal", ""),
        ("exec: {command: x}", "has no apiVersion", ""),
        ("tokenFile: /nowhere", "cannot read the tokenFile /nowhere", ""),
        ("client-key-data: '!!notbase64'\nclient-certificate-data: \(caData)", "client-key-data of user 'u'", "not valid base64"),
    ])
    func refusedUsers(user: String, problem: String, advice: String) throws {
        let error = try failure(["/home/me/.kube/config": Self.config(user: user)])
        #expect(error.code == .authentication)
        #expect(error.message.contains("user 'u' in kubeconfig /home/me/.kube/config"))
        #expect(error.message.contains(problem), "\(error.message)")
        #expect(advice.isEmpty || error.message.contains(advice))
        #expect(!error.message.contains("hunter2"))
    }

    @Test(arguments: [
        ("server: https://k\nproxy-url: http://proxy:3128", "proxy-url", "https_proxy"),
        ("server: https://k\ncertificate-authority: /ca\ncertificate-authority-data: \(caData)", "both certificate-authority and certificate-authority-data", ""),
        ("server: https://k\ncertificate-authority: /missing.pem", "cannot read the certificate-authority file /missing.pem", ""),
        ("server: https://k\ncertificate-authority-data: \(Data("not pem".utf8).base64EncodedString())", "not PEM", ""),
        ("server: https://k\ninsecure-skip-tls-verify: maybe", "must be true or false", ""),
    ])
    func refusedClusters(cluster: String, problem: String, advice: String) throws {
        let error = try failure(["/home/me/.kube/config": Self.config(cluster: cluster), "/ca": Self.ca])
        #expect(error.code == .invalidSetting)
        #expect(error.message.contains(problem), "\(error.message)")
        #expect(advice.isEmpty || error.message.contains(advice))
    }

    @Test func tokensOverPlainHTTPOnlyToLoopback() throws {
        let error = try failure(["/home/me/.kube/config": Self.config(cluster: "server: http://10.0.0.1:8080")])
        #expect(error.message.contains("https only"))
        #expect(try load(["/home/me/.kube/config": Self.config(cluster: "server: http://127.0.0.1:8001")]).server == "http://127.0.0.1:8001")
        #expect(try load(["/home/me/.kube/config": Self.config(cluster: "server: http://10.0.0.1:8080", user: nil)]).server == "http://10.0.0.1:8080")
    }

    @Test func execPluginsAsEKSAndGKEWriteThem() throws {
        let eks = """
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: aws
              args: [--region, eu-west-1, eks, get-token, --cluster-name, prod]
              env:
              - name: AWS_PROFILE
                value: admin
              interactiveMode: IfAvailable
              provideClusterInfo: true
              installHint: install the AWS CLI
            """
        let connection = try load(["/home/me/.kube/config": Self.config(
            cluster: "server: https://eks.example\ncertificate-authority-data: \(Self.caData)", user: eks)])
        guard case .exec(let exec) = connection.credentials else { Issue.record("no exec"); return }
        #expect(exec.apiVersion == .v1beta1)
        #expect(exec.command == "aws")
        #expect(exec.args == ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod"])
        #expect(exec.env == [.init(name: "AWS_PROFILE", value: "admin")])
        #expect(exec.installHint == "install the AWS CLI")
        #expect(exec.cluster == .init(server: "https://eks.example", certificateAuthorityData: Array(Self.ca.utf8)))
        #expect(exec.origin == "user 'u' in kubeconfig /home/me/.kube/config")

        let gke = "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: ./bin/gke-gcloud-auth-plugin\n"
        let relative = try load(["/home/me/.kube/config": Self.config(user: gke)])
        guard case .exec(let plugin) = relative.credentials else { Issue.record("no exec"); return }
        #expect(plugin.command == "/home/me/.kube/bin/gke-gcloud-auth-plugin")
        #expect(plugin.cluster == nil)
    }

    @Test func malformedFilesNameTheirLine() throws {
        let error = try failure(["/home/me/.kube/config": "clusters:\n- name: c\n  cluster: [1, 2]\n"])
        #expect(error.message == "kubeconfig /home/me/.kube/config:3: 'cluster' must be a mapping, not a list")
        let twice = try failure(["/home/me/.kube/config": "clusters:\n- name: c\n  cluster: {}\n- name: c\n  cluster: {}\n"])
        #expect(twice.message.contains(":4: cluster 'c' is defined twice (first on line 2)"))
        let syntax = try failure(["/home/me/.kube/config": "clusters: [\n"])
        #expect(syntax.message.contains("is this a kubeconfig file?"))
    }
}
