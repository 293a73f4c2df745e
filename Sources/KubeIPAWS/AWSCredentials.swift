#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An AWS access key, possibly temporary.
///
/// Its textual forms (`description`, `debugDescription`, `dump`) show only the last four
/// characters of the access key id and never the secret key or the session token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
                              CustomReflectable {
    /// `AKIA…` (long-term) or `ASIA…` (temporary).
    public var accessKeyID: String
    /// Never logged or printed.
    public var secretAccessKey: String
    /// Present for temporary credentials (STS, container, instance role).
    public var sessionToken: String?
    /// When temporary credentials stop working.
    public var expiration: Date?
    /// Where they came from (`environment`, `web identity`, `shared files`, `container`, `instance role`).
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil,
                expiration: Date? = nil, source: String = "") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
        self.expiration = expiration
        self.source = source
    }

    /// `…MPLE`: enough to tell keys apart in logs.
    public var maskedAccessKeyID: String { "…" + String(accessKeyID.suffix(4)) }

    public var description: String {
        var text = "AWS credentials \(maskedAccessKeyID)"
        if !source.isEmpty { text += " from \(source)" }
        if sessionToken != nil { text += ", temporary" }
        if let expiration { text += ", expiring \(UTCTime.iso8601(expiration))" }
        return text
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": maskedAccessKeyID, "secretAccessKey": "<redacted>",
                                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
                                "expiration": expiration.map(UTCTime.iso8601) ?? "nil", "source": source])
    }
}

/// One source of AWS credentials.
public protocol AWSCredentialsProvider: Sendable {
    /// How the "no credentials" message names this source.
    var name: String { get }
    /// The credentials, or nil when this source is not configured here; throws when it is
    /// configured but fails (the chain then stops: a broken configuration must not silently
    /// fall through to another identity).
    func resolve() async throws -> AWSCredentials?
}

/// Reads a local file as text; nil when it does not exist or cannot be read.
public typealias AWSFileReader = @Sendable (_ path: String) -> String?

/// The default ``AWSFileReader``: the local file system.
public let localFileReader: AWSFileReader = { path in
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self)
}

/// Credential payload shared by the container endpoint and the instance role (IMDS).
struct CredentialDocument: Decodable {
    var AccessKeyId: String?
    var SecretAccessKey: String?
    var Token: String?
    var Expiration: String?
    var Code: String?
    var Message: String?

    /// Decodes `body`; nil when it is not a credentials document.
    static func credentials(from body: [UInt8], source: String) -> AWSCredentials? {
        guard let document = try? JSONDecoder().decode(CredentialDocument.self, from: Data(body)),
              let key = document.AccessKeyId, !key.isEmpty,
              let secret = document.SecretAccessKey, !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: document.Token,
                              expiration: document.Expiration.flatMap(UTCTime.parseISO8601), source: source)
    }
}
