import KubeIPConfig
import KubeIPCore
import KubeIPHTTP

/// The connection of a pod: `KUBERNETES_SERVICE_HOST` / `KUBERNETES_SERVICE_PORT`, and the
/// service account's projected token, CA and namespace in ``serviceAccountDirectory``.
///
/// The token rotates (the kubelet rewrites the file): it is read again every minute and after
/// a 401, never cached for the process's life.
public enum InClusterConfig {
    /// Where the kubelet mounts the service account.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Whether the environment is a pod's (both service variables set).
    public static func isAvailable(environment: [String: String]) -> Bool {
        !(environment["KUBERNETES_SERVICE_HOST"]?.trimmedWhitespace ?? "").isEmpty
            && !(environment["KUBERNETES_SERVICE_PORT"]?.trimmedWhitespace ?? "").isEmpty
    }

    /// The in-cluster connection; `directory` replaces the service account mount (tests).
    public static func connection(environment: [String: String], directory: String = serviceAccountDirectory,
                                  fileSystem: any FileSystemReading = RealFileSystem()) throws -> KubeConnection {
        let host = environment["KUBERNETES_SERVICE_HOST"]?.trimmedWhitespace ?? ""
        let port = environment["KUBERNETES_SERVICE_PORT"]?.trimmedWhitespace ?? ""
        guard !host.isEmpty, !port.isEmpty else {
            throw KubeIPError(.invalidSetting,
                              "not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set); set kubeconfig (KUBECONFIG) to a kubeconfig file",
                              setting: "kubeconfig")
        }
        guard let portNumber = Int(port), (1...65_535).contains(portNumber) else {
            throw KubeIPError(.invalidSetting, "KUBERNETES_SERVICE_PORT is '\(port)', not a port number", setting: "kubeconfig")
        }
        // An IPv6 address goes in brackets (net.JoinHostPort).
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let server = "https://\(bracketed):\(portNumber)"

        let tokenPath = directory + "/token"
        let token = try? fileSystem.readFile(atPath: tokenPath)
        guard let token, !token.trimmedWhitespace.isEmpty else {
            throw KubeIPError(.authentication,
                              "no service account token at \(tokenPath); does the pod run with automountServiceAccountToken: false?",
                              setting: "kubeconfig")
        }
        let caPath = directory + "/ca.crt"
        guard let ca = try? fileSystem.readFile(atPath: caPath), ca.contains("-----BEGIN ") else {
            throw KubeIPError(.invalidSetting, "no cluster CA certificate (PEM) at \(caPath)", setting: "kubeconfig")
        }
        let namespace = (try? fileSystem.readFile(atPath: directory + "/namespace"))?.trimmedWhitespace
        return KubeConnection(server: server, tls: TLSOptions(trustedCertificates: .data(Array(ca.utf8))),
                              credentials: .tokenFile(tokenPath),
                              namespace: namespace.flatMap { $0.isEmpty ? nil : $0 },
                              origin: "in-cluster service account (\(directory))")
    }
}

extension KubeConnection {
    /// The connection kubeip uses, in this order:
    /// 1. `kubeconfigPath` (the `kubeconfig` setting), a single file that must exist, or a
    ///    colon-separated list merged as kubectl merges `KUBECONFIG`;
    /// 2. `KUBECONFIG` from `environment`, a colon-separated list (missing files skipped);
    /// 3. in-cluster, when `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` are set;
    /// 4. `$HOME/.kube/config` when it exists.
    ///
    /// `context` picks a context other than the current one; `allowInsecureTLS` is the
    /// `kube-allow-insecure-tls` setting.
    public static func resolve(kubeconfigPath: String? = nil, context: String? = nil,
                               environment: [String: String], allowInsecureTLS: Bool = false,
                               fileSystem: any FileSystemReading = RealFileSystem(),
                               serviceAccountDirectory: String = InClusterConfig.serviceAccountDirectory) throws -> KubeConnection {
        let loader = KubeconfigLoader(fileSystem: fileSystem, allowInsecureTLS: allowInsecureTLS)
        func list(_ text: String) -> [String] { text.split(separator: ":").map { $0.trimmedWhitespace }.filter { !$0.isEmpty } }
        if let explicit = kubeconfigPath?.trimmedWhitespace, !explicit.isEmpty {
            let paths = list(explicit)
            return try loader.connection(paths: paths, explicit: paths.count == 1, context: context)
        }
        if let variable = environment["KUBECONFIG"]?.trimmedWhitespace, !list(variable).isEmpty {
            return try loader.connection(paths: list(variable), context: context)
        }
        if InClusterConfig.isAvailable(environment: environment) {
            return try InClusterConfig.connection(environment: environment, directory: serviceAccountDirectory,
                                                  fileSystem: fileSystem)
        }
        if let home = environment["HOME"], !home.isEmpty,
           (try? fileSystem.readFile(atPath: home + "/.kube/config")) != nil {
            return try loader.connection(paths: [home + "/.kube/config"], explicit: true, context: context)
        }
        throw KubeIPError(.invalidSetting,
                          "no Kubernetes API to talk to: not in a pod (KUBERNETES_SERVICE_HOST unset), KUBECONFIG unset and no ~/.kube/config; set kubeconfig (KUBECONFIG) to a kubeconfig file",
                          setting: "kubeconfig")
    }
}
