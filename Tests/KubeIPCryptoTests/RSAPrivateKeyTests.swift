import Foundation
import KubeIPCrypto
import Testing

/// Keys made once per test run with the `openssl` command line, in a private temporary directory.
final class KeyFixture: Sendable {
    static let shared: KeyFixture = {
        do { return try KeyFixture() } catch { fatalError("cannot create test keys: \(error)") }
    }()

    let directory: URL

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeip-crypto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path("pkcs8.pem"))
        try openssl("rsa", "-in", path("pkcs8.pem"), "-traditional", "-out", path("pkcs1.pem"))
        try openssl("pkey", "-in", path("pkcs8.pem"), "-pubout", "-out", path("pub.pem"))
        try openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("ec.pem"))
        try openssl("genpkey", "-algorithm", "ED25519", "-out", path("ed25519.pem"))
        try openssl("pkey", "-in", path("pkcs8.pem"), "-aes-256-cbc", "-passout", "pass:hunter2",
                    "-out", path("encrypted.pem"))
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    /// Runs `openssl` with `arguments`; returns its exit status and standard output.
    @discardableResult
    func openssl(_ arguments: String..., allowFailure: Bool = false) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if !allowFailure && process.terminationStatus != 0 {
            throw CocoaError(.executableLoad, userInfo: ["arguments": arguments.joined(separator: " ")])
        }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Verifies `signature` over `message` with the public key through `openssl dgst`.
    func opensslVerifies(_ message: [UInt8], signature: [UInt8]) throws -> Bool {
        let name = UUID().uuidString
        try Data(message).write(to: directory.appendingPathComponent(name + ".msg"))
        try Data(signature).write(to: directory.appendingPathComponent(name + ".sig"))
        let (status, output) = try openssl("dgst", "-sha256", "-verify", path("pub.pem"),
                                           "-signature", path(name + ".sig"), path(name + ".msg"),
                                           allowFailure: true)
        return status == 0 && output.contains("Verified OK")
    }
}

@Suite struct RSAPrivateKeyTests {
    let keys = KeyFixture.shared
    let message = Array("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJrdWJlaXAifQ".utf8)

    @Test(arguments: ["pkcs8.pem", "pkcs1.pem"])
    func signsVerifiably(file: String) throws {
        let pem = try keys.text(file)
        #expect(pem.contains(file == "pkcs1.pem" ? "BEGIN RSA PRIVATE KEY" : "BEGIN PRIVATE KEY"))
        let key = try RSAPrivateKey(pem: pem)
        let signature = try key.signSHA256(message)
        #expect(signature.count == 256)
        #expect(try keys.opensslVerifies(message, signature: signature))
        // PKCS#1 v1.5 is deterministic: both encodings of the key give the same bytes.
        #expect(try key.signSHA256(message) == signature)
        // A different message does not verify under this signature.
        #expect(try !keys.opensslVerifies(message + [0x2e], signature: signature))
    }

    @Test func bothEncodingsSignIdentically() throws {
        let pkcs8 = try RSAPrivateKey(pem: keys.text("pkcs8.pem"))
        let pkcs1 = try RSAPrivateKey(pem: keys.text("pkcs1.pem"))
        #expect(try pkcs8.signSHA256(message) == pkcs1.signSHA256(message))
        #expect(try pkcs8.signSHA256([]).count == 256)
    }

    @Test func sharedAcrossTasks() async throws {
        let key = try RSAPrivateKey(pem: keys.text("pkcs8.pem"))
        let expected = try key.signSHA256(message)
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<8 { group.addTask { try key.signSHA256(message) } }
            for try await signature in group { #expect(signature == expected) }
        }
    }

    @Test(arguments: ["ec.pem", "ed25519.pem"])
    func nonRSAKeyIsRejected(file: String) throws {
        let pem = try keys.text(file)
        let error = #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: pem) }
        #expect(error?.description.contains("not an RSA key") == true)
        expectNoKeyMaterial(in: error, pem: pem)
    }

    @Test func encryptedKeyIsRejectedWithoutPrompting() throws {
        let pem = try keys.text("encrypted.pem")
        #expect(pem.contains("ENCRYPTED"))
        let error = #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: pem) }
        expectNoKeyMaterial(in: error, pem: pem)
    }

    @Test func publicKeyIsRejected() throws {
        let pem = try keys.text("pub.pem")
        let error = #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: pem) }
        expectNoKeyMaterial(in: error, pem: pem)
    }

    @Test(arguments: [
        "",
        "not a key at all: s3cr3t-marker",
        "-----BEGIN PRIVATE KEY-----\nczNjcjN0LW1hcmtlcg==\n-----END PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\n!!!s3cr3t-marker!!!\n-----END RSA PRIVATE KEY-----\n",
    ])
    func garbageIsRejected(pem: String) {
        let error = #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: pem) }
        expectNoKeyMaterial(in: error, pem: pem)
        #expect(error?.description.contains("s3cr3t") == false)
    }

    @Test func truncatedKeyIsRejected() throws {
        let pem = try keys.text("pkcs8.pem")
        let lines = pem.split(separator: "\n")
        let truncated = (lines.prefix(8) + lines.suffix(1)).joined(separator: "\n")
        let error = #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: truncated) }
        expectNoKeyMaterial(in: error, pem: pem)
    }

    /// No line of the key's base64 body (nor any 16-character run of it) appears in the error.
    private func expectNoKeyMaterial(in error: CryptoError?, pem: String) {
        guard let text = error?.description else { return }
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        var index = body.startIndex
        while body.distance(from: index, to: body.endIndex) >= 16 {
            let end = body.index(index, offsetBy: 16)
            #expect(!text.contains(body[index..<end]))
            index = end
        }
        #expect(!text.contains("MII"))
    }
}
