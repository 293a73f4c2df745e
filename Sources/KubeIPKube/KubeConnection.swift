import KubeIPHTTP

/// Where the Kubernetes API is and how to authenticate to it: the outcome of reading a
/// kubeconfig or the in-cluster service account. Holds no secret in its textual forms.
public struct KubeConnection: Sendable, CustomStringConvertible {
    /// `https://host:port`, possibly with a path prefix; no trailing slash.
    public var server: String
    /// Trust (the cluster CA), a static client certificate, the server name, and whether the
    /// user allowed skipping verification.
    public var tls: TLSOptions
    /// Where the credential of each request comes from.
    public var credentials: KubeCredentialSource
    /// The context's namespace, or the service account's; nil when neither says.
    public var namespace: String?
    /// Where this came from, for messages: `in-cluster service account (/var/run/…)` or
    /// `kubeconfig /root/.kube/config, context prod (cluster prod, user admin)`.
    public var origin: String

    public init(server: String, tls: TLSOptions = TLSOptions(), credentials: KubeCredentialSource = .none,
                namespace: String? = nil, origin: String) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.tls = tls
        self.credentials = credentials
        self.namespace = namespace
        self.origin = origin
    }

    public var description: String {
        "Kubernetes API \(server) from \(origin), \(credentials), \(tls)"
    }
}

/// Where request credentials come from.
public enum KubeCredentialSource: Sendable, CustomStringConvertible {
    /// None (anonymous, or a client certificate in the TLS options).
    case none
    /// A fixed bearer token (kubeconfig `token`).
    case token(KubeSecret)
    /// A file holding the token, read again every minute and after a 401 (kubeconfig
    /// `tokenFile`, the in-cluster projected service account token).
    case tokenFile(String)
    /// An exec credential plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`).
    case exec(ExecCredentialConfig)

    public var description: String {
        switch self {
        case .none: "no credentials"
        case .token: "a static token"
        case .tokenFile(let path): "the token in \(path)"
        case .exec(let config): "the exec plugin \(config.command)"
        }
    }
}
