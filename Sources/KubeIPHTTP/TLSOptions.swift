/// The TLS identity and trust of one ``CurlHTTPClient``: which certificate authorities it
/// trusts, which client certificate it presents, and the server name it expects.
///
/// Immutable once the client is built; a different identity (an exec plugin's fresh client
/// certificate) is a different client. Peer and host-name verification are always on, unless
/// a caller inside this package (the Kubernetes layer, after the user explicitly allowed it)
/// chooses ``insecureSkippingVerification``.
///
/// Textual forms never show PEM bytes: key material is `<redacted>`, certificates only their size.
public struct TLSOptions: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// PEM text, from a file libcurl reads or held in memory.
    public enum PEM: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// A PEM file on disk, read by libcurl on each new connection.
        case file(String)
        /// PEM bytes in memory (`*-data` kubeconfig fields, exec plugin answers).
        case data([UInt8])

        public var description: String {
            switch self {
            case .file(let path): "file \(path)"
            case .data(let bytes): "\(bytes.count) bytes of PEM"
            }
        }

        public var debugDescription: String { description }
        public var customMirror: Mirror { Mirror(self, children: ["pem": description]) }
    }

    /// Trusted certificate authorities, replacing the system store (nil: the system store).
    public var trustedCertificates: PEM?
    /// The client certificate presented to the server (mutual TLS); needs ``clientKey``.
    public var clientCertificate: PEM?
    /// The private key of ``clientCertificate``. Never printed.
    public var clientKey: PEM?
    /// The name the server's certificate must carry and the SNI sent, when it differs from the
    /// URL's host (kubeconfig `tls-server-name`). The connection still goes to the URL's host.
    public var serverName: String?
    /// True only through ``insecureSkippingVerification``: the peer is not verified at all.
    public private(set) var skipsVerification: Bool = false

    /// Options with the given trust and identity; verification on.
    public init(trustedCertificates: PEM? = nil, clientCertificate: PEM? = nil, clientKey: PEM? = nil,
                serverName: String? = nil) {
        self.trustedCertificates = trustedCertificates
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.serverName = serverName
    }

    /// These options with certificate and host-name verification turned off (kubeconfig
    /// `insecure-skip-tls-verify`). Package-internal: only the Kubernetes layer sets it, and only
    /// after the user allowed it explicitly (`kube-allow-insecure-tls`).
    package var insecureSkippingVerification: TLSOptions {
        var copy = self
        copy.skipsVerification = true
        return copy
    }

    public var description: String {
        var parts: [String] = []
        if let trustedCertificates { parts.append("trusting \(trustedCertificates)") }
        if let clientCertificate { parts.append("client certificate \(clientCertificate)") }
        if clientKey != nil { parts.append("client key <redacted>") }
        if let serverName { parts.append("server name \(serverName)") }
        if skipsVerification { parts.append("NOT VERIFYING THE SERVER") }
        return parts.isEmpty ? "TLS with the system trust store" : "TLS " + parts.joined(separator: ", ")
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["tls": description]) }
}
