#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPCrypto

/// A service-account key file (GOOGLE_APPLICATION_CREDENTIALS), as `gcloud iam service-accounts
/// keys create` writes it, and the RS256 JWT assertion (RFC 7523) exchanged for an access token.
///
/// Errors name the file, never its content.
public struct ServiceAccountKey: Sendable {
    /// The token endpoint used when the file names none.
    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"
    /// The one scope kubeip asks for.
    public static let computeScope = "https://www.googleapis.com/auth/compute"
    /// Lifetime of an assertion (the longest Google accepts).
    static let assertionLifetime: TimeInterval = 3600

    /// The file it came from (for messages).
    public let path: String
    public let clientEmail: String
    public let privateKeyID: String
    public let tokenURI: String
    let privateKey: RSAPrivateKey

    private struct File: Decodable {
        var type: String?
        var client_email: String?
        var private_key: String?
        var private_key_id: String?
        var token_uri: String?
    }

    /// Parses the key file's text. Throws `.authentication` naming `path`.
    public init(path: String, text: String) throws {
        func failure(_ why: String) -> KubeIPError {
            KubeIPError(.authentication, "GOOGLE_APPLICATION_CREDENTIALS file \(path): \(why)", resource: path)
        }
        guard let file = try? JSONDecoder().decode(File.self, from: Data(text.utf8)) else {
            throw failure("not a JSON key file")
        }
        guard let type = file.type, !type.isEmpty else { throw failure("no 'type' field; expected a service account key") }
        guard type == "service_account" else {
            throw failure("credentials of type '\(type)' are not supported; use a service account key (type service_account) or the VM's service account")
        }
        guard let email = file.client_email?.trimmedWhitespace, !email.isEmpty else { throw failure("no client_email") }
        guard let pem = file.private_key, !pem.trimmedWhitespace.isEmpty else { throw failure("no private_key") }
        let tokenURI = file.token_uri?.trimmedWhitespace ?? ""
        if !tokenURI.isEmpty && !tokenURI.hasPrefix("https://") && !tokenURI.hasPrefix("http://") {
            throw failure("token_uri is not an http(s) URL")
        }
        do {
            privateKey = try RSAPrivateKey(pem: pem)
        } catch let error as CryptoError {
            throw failure("private_key is unusable (\(error.message))")
        }
        self.path = path
        clientEmail = email
        privateKeyID = file.private_key_id?.trimmedWhitespace ?? ""
        self.tokenURI = tokenURI.isEmpty ? Self.defaultTokenURI : tokenURI
    }

    /// The signed JWT: header {alg RS256, typ JWT, kid}, claims {iss, scope, aud, iat, exp}.
    public func assertion(issuedAt now: Date, scope: String = ServiceAccountKey.computeScope) throws -> String {
        struct Header: Encodable { var alg = "RS256"; var typ = "JWT"; var kid: String? }
        struct Claims: Encodable { var iss: String; var scope: String; var aud: String; var iat: Int; var exp: Int }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let issued = Int(now.timeIntervalSince1970)
        let header = try encoder.encode(Header(kid: privateKeyID.isEmpty ? nil : privateKeyID))
        let claims = try encoder.encode(Claims(iss: clientEmail, scope: scope, aud: tokenURI, iat: issued,
                                               exp: issued + Int(Self.assertionLifetime)))
        let signingInput = Base64.encodeURL(Array(header)) + "." + Base64.encodeURL(Array(claims))
        let signature: [UInt8]
        do {
            signature = try privateKey.signSHA256(Array(signingInput.utf8))
        } catch let error as CryptoError {
            throw KubeIPError(.authentication, "cannot sign with the key in \(path): \(error.message)", resource: path)
        }
        return signingInput + "." + Base64.encodeURL(signature)
    }
}
