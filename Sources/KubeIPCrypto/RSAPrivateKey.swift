import COpenSSL

/// Failure to load or use a private key. Never includes key material.
public struct CryptoError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An RSA private key loaded from PEM (PKCS#1 or PKCS#8), for RS256 signatures (Google JWTs).
public final class RSAPrivateKey: @unchecked Sendable {
    // EVP_PKEY is immutable once loaded and EVP signing contexts are per call: safe to share.
    private let key: OpaquePointer

    /// Loads a PEM private key; throws ``CryptoError`` when it is not a valid RSA key.
    public init(pem: String) throws {
        let bytes = Array(pem.utf8)
        let bio = bytes.withUnsafeBytes { BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }
        guard let bio else { throw CryptoError("cannot allocate a buffer for the private key") }
        defer { BIO_free(bio) }
        guard let loaded = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
            ERR_clear_error()
            throw CryptoError("the private key is not valid PEM")
        }
        guard EVP_PKEY_get_base_id(loaded) == EVP_PKEY_RSA else {
            EVP_PKEY_free(loaded)
            throw CryptoError("the private key is not an RSA key")
        }
        key = loaded
    }

    deinit { EVP_PKEY_free(key) }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message` (JWT `RS256`).
    public func signSHA256(_ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw CryptoError("cannot allocate a signing context") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key) == 1 else {
            ERR_clear_error()
            throw CryptoError("cannot start an RS256 signature")
        }
        var length = 0
        let sized = message.withUnsafeBytes { m in
            EVP_DigestSign(ctx, nil, &length, m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count)
        }
        guard sized == 1 else { ERR_clear_error(); throw CryptoError("cannot size the RS256 signature") }
        var signature = [UInt8](repeating: 0, count: length)
        let signed = message.withUnsafeBytes { m in
            EVP_DigestSign(ctx, &signature, &length, m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count)
        }
        guard signed == 1 else { ERR_clear_error(); throw CryptoError("RS256 signing failed") }
        return Array(signature.prefix(length))
    }
}
