/// A kubeconfig user's `exec` section: the credential plugin to run.
public struct ExecCredentialConfig: Sendable, Equatable {
    /// `client.authentication.k8s.io/v1` or `…/v1beta1`.
    public enum APIVersion: String, Sendable, Equatable, CaseIterable {
        case v1 = "client.authentication.k8s.io/v1"
        case v1beta1 = "client.authentication.k8s.io/v1beta1"
    }

    /// One `env` entry, set over kubeip's own environment for the plugin.
    public struct Variable: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// What the plugin learns of the cluster when `provideClusterInfo` is set.
    public struct ClusterInfo: Sendable, Equatable {
        public var server: String
        public var tlsServerName: String?
        public var insecureSkipTLSVerify: Bool
        /// The cluster CA as PEM bytes (sent base64-encoded).
        public var certificateAuthorityData: [UInt8]?

        public init(server: String, tlsServerName: String? = nil, insecureSkipTLSVerify: Bool = false,
                    certificateAuthorityData: [UInt8]? = nil) {
            self.server = server
            self.tlsServerName = tlsServerName
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.certificateAuthorityData = certificateAuthorityData
        }
    }

    public var apiVersion: APIVersion
    /// The program: a name looked up in `PATH`, or a path (relative ones resolved against the
    /// kubeconfig's directory when read from a kubeconfig).
    public var command: String
    public var args: [String]
    public var env: [Variable]
    /// Sent in `KUBERNETES_EXEC_INFO` when the kubeconfig sets `provideClusterInfo`.
    public var cluster: ClusterInfo?
    /// The kubeconfig's hint on how to install the plugin, shown when it cannot be found.
    public var installHint: String?
    /// `user 'eks-admin' in kubeconfig /root/.kube/config`, for messages.
    public var origin: String

    public init(apiVersion: APIVersion, command: String, args: [String] = [], env: [Variable] = [],
                cluster: ClusterInfo? = nil, installHint: String? = nil, origin: String) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.cluster = cluster
        self.installHint = installHint
        self.origin = origin
    }
}
