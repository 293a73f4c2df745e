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
    ///
    /// Accepts unencrypted PKCS#8 (`BEGIN PRIVATE KEY`) and PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    /// Encrypted keys are refused (never prompted for: a daemon has no terminal).
    public init(pem: String) throws {
        var bytes = Array(pem.utf8)
        defer { for i in bytes.indices { bytes[i] = 0 } }
        guard !bytes.isEmpty else { throw CryptoError("the private key is empty") }
        // The memory BIO reads the caller's buffer in place: use it only inside this closure.
        let loaded: OpaquePointer? = try bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
                throw CryptoError("cannot allocate a buffer for the private key")
            }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, refusePassphrase, nil)
        }
        // Decoders may leave notes on this thread's error queue even on success.
        ERR_clear_error()
        guard let loaded else {
            throw CryptoError("the private key is not an unencrypted PEM private key")
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

/// A passphrase callback that supplies none, so OpenSSL never prompts on a terminal for encrypted keys.
private let refusePassphrase: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
    _, _, _, _ in -1
}
