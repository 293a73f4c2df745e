/// A bearer token or other secret text. Its textual forms (`description`, `debugDescription`,
/// `dump`, string interpolation) are `<redacted>`: the value reaches only the request header.
public struct KubeSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Never log it or put it in an error.
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: ["value": "<redacted>"]) }
}

/// What authenticates one request: a bearer token, a client certificate, both, or neither.
public struct KubeCredential: Sendable, Hashable, CustomStringConvertible {
    /// Sent as `Authorization: Bearer …`.
    public var token: KubeSecret?
    /// A client certificate and key (PEM) for mutual TLS, from an exec plugin; static ones from
    /// a kubeconfig are part of the connection's TLS options instead.
    public var clientCertificate: ClientCertificate?

    /// PEM bytes of a certificate and its key; the key never printed.
    public struct ClientCertificate: Sendable, Hashable, CustomStringConvertible {
        public var certificate: [UInt8]
        public var key: [UInt8]
        public init(certificate: [UInt8], key: [UInt8]) {
            self.certificate = certificate
            self.key = key
        }
        public var description: String { "client certificate (\(certificate.count) bytes), key <redacted>" }
    }

    public init(token: KubeSecret? = nil, clientCertificate: ClientCertificate? = nil) {
        self.token = token
        self.clientCertificate = clientCertificate
    }

    /// No credential: anonymous, or a static client certificate in the TLS options.
    public static let none = KubeCredential()

    public var description: String {
        var parts: [String] = []
        if token != nil { parts.append("bearer token <redacted>") }
        if let clientCertificate { parts.append(clientCertificate.description) }
        return parts.isEmpty ? "no credential" : parts.joined(separator: ", ")
    }
}

extension KubeCredential: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: ["credential": description]) }
}

extension KubeCredential.ClientCertificate: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: ["certificate": description]) }
}
