import Foundation
import KubeIPCore
import KubeIPCrypto
import KubeIPHTTP
import KubeIPSimulator
import Testing
@testable import KubeIPGCP

/// A throwaway RSA key made with openssl, and openssl verifying signatures with its public half.
struct OpenSSLKey {
    let directory: URL
    let privatePEM: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeip-gcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", directory.appendingPathComponent("key.pem").path])
        try Self.run(["pkey", "-in", directory.appendingPathComponent("key.pem").path, "-pubout", "-out", directory.appendingPathComponent("pub.pem").path])
        privatePEM = try String(contentsOf: directory.appendingPathComponent("key.pem"), encoding: .utf8)
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether `signature` is a valid RS256 signature of `message` under the public key.
    func verify(_ message: String, signature: [UInt8]) throws -> Bool {
        let input = directory.appendingPathComponent("input-\(UUID().uuidString)")
        let sig = directory.appendingPathComponent("sig-\(UUID().uuidString)")
        try Data(message.utf8).write(to: input)
        try Data(signature).write(to: sig)
        let result = try Self.run(["dgst", "-sha256", "-verify", directory.appendingPathComponent("pub.pem").path,
                                   "-signature", sig.path, input.path])
        return result.status == 0 && result.output.contains("Verified OK")
    }

    func keyFile(email: String = "kubeip@kubeip-prod.iam.gserviceaccount.com", tokenURI: String = "https://oauth2.googleapis.com/token",
                 type: String = "service_account") throws -> String {
        let object: [String: String] = [
            "type": type, "project_id": "kubeip-prod", "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": privatePEM, "client_email": email, "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": tokenURI,
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

func decodeSegment(_ segment: Substring) throws -> [String: Any] {
    let bytes = try #require(Base64.decode(String(segment)))
    return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

@Suite struct GCPTokenProviderTests {
    static let metadataToken = "ya29.metadata-token-AAAAAAAAAAAAAAAAAAAAAAAA"

    static func metadataServer(token: String = metadataToken, expiresIn: Int = 3599) -> ScriptedHTTP {
        let counter = Counter()
        return ScriptedHTTP { request in
            guard request.path == "/computeMetadata/v1/instance/service-accounts/default/token" else {
                return metadataAnswer("", status: 404)
            }
            let n = counter.next()
            return metadataAnswer(#"{"access_token":"\#(token)-\#(n)","expires_in":\#(expiresIn),"token_type":"Bearer"}"#)
        }
    }

    @Test func metadataTokenIsCachedAndRefreshedAMinuteBeforeExpiry() async throws {
        let http = Self.metadataServer()
        let clock = ManualClock(autoAdvance: false)
        let provider = GCPTokenProvider(source: .metadata, metadata: GCEMetadataClient(http: http, clock: clock),
                                        http: http, clock: clock)
        #expect(try await provider.token() == "\(Self.metadataToken)-1")
        clock.advance(by: .seconds(3599 - 61))
        #expect(try await provider.token() == "\(Self.metadataToken)-1")
        clock.advance(by: .seconds(2))
        #expect(try await provider.token() == "\(Self.metadataToken)-2")
        await provider.invalidate()
        #expect(try await provider.token() == "\(Self.metadataToken)-3")
        #expect(http.requests.count == 3)
    }

    @Test func aVMWithoutServiceAccountIsAnAuthenticationError() async throws {
        let http = ScriptedHTTP { _ in metadataAnswer("", status: 404) }
        let clock = ManualClock(autoAdvance: true)
        let provider = GCPTokenProvider(source: .metadata, metadata: GCEMetadataClient(http: http, clock: clock), http: http, clock: clock)
        await #expect {
            try await provider.token()
        } throws: { error in
            (error as? KubeIPError)?.code == .authentication && (error as? KubeIPError)?.message.contains("no service account") == true
        }
    }

    @Test func sourceFromTheEnvironment() {
        #expect(GCPTokenProvider.source(environment: [:]) == .metadata)
        #expect(GCPTokenProvider.source(environment: ["GOOGLE_APPLICATION_CREDENTIALS": " /etc/kubeip/key.json "])
            == .serviceAccountKey(path: "/etc/kubeip/key.json"))
    }

    @Test func serviceAccountKeyJWTIsSignedWithTheKeyAndExchanged() async throws {
        let key = try OpenSSLKey()
        defer { key.remove() }
        let file = try key.keyFile(tokenURI: "http://127.0.0.1:9/token")
        let accessToken = "ya29.from-the-key-BBBBBBBBBBBBBBBBBBBBBBBBBB"
        let http = ScriptedHTTP { request in
            guard request.url == "http://127.0.0.1:9/token", request.method == "POST" else { return json(404, "{}") }
            return json(200, #"{"access_token":"\#(accessToken)","expires_in":3599,"token_type":"Bearer"}"#)
        }
        let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000), autoAdvance: true)
        let logs = LogCapture()
        let provider = GCPTokenProvider(source: .serviceAccountKey(path: "/etc/kubeip/key.json"),
                                        metadata: GCEMetadataClient(http: http, clock: clock), http: http, clock: clock,
                                        readFile: { $0 == "/etc/kubeip/key.json" ? file : nil }, logger: logs.logger())
        #expect(try await provider.token() == accessToken)
        #expect(try await provider.token() == accessToken)
        #expect(http.requests.count == 1)

        let request = try #require(http.requests.first)
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(request.bodyText.hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="))
        #expect(request.form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer")
        let assertion = try #require(request.form["assertion"])
        let parts = assertion.split(separator: ".")
        try #require(parts.count == 3)
        let header = try decodeSegment(parts[0])
        #expect(header["alg"] as? String == "RS256")
        #expect(header["typ"] as? String == "JWT")
        #expect(header["kid"] as? String == "0123456789abcdef0123456789abcdef01234567")
        let claims = try decodeSegment(parts[1])
        #expect(claims["iss"] as? String == "kubeip@kubeip-prod.iam.gserviceaccount.com")
        #expect(claims["scope"] as? String == "https://www.googleapis.com/auth/compute")
        #expect(claims["aud"] as? String == "http://127.0.0.1:9/token")
        #expect(claims["iat"] as? Int == 1_800_000_000)
        #expect(claims["exp"] as? Int == 1_800_003_600)
        let signature = try #require(Base64.decode(String(parts[2])))
        #expect(try key.verify("\(parts[0]).\(parts[1])", signature: signature))
        #expect(try !key.verify("\(parts[0]).\(parts[1])x", signature: signature))

        for secret in [accessToken, assertion, String(parts[2]), "PRIVATE KEY"] {
            #expect(!logs.text.contains(secret))
        }
    }

    @Test func keyFileErrorsNameTheFileNeverItsContent() async throws {
        let key = try OpenSSLKey()
        defer { key.remove() }
        let cases: [(String?, String)] = [
            (nil, "cannot read"),
            ("not json", "not a JSON key file"),
            (try key.keyFile(type: "authorized_user"), "type 'authorized_user' are not supported"),
            (#"{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#,
             "private_key is unusable"),
        ]
        for (content, why) in cases {
            let http = ScriptedHTTP { _ in json(500, "{}") }
            let clock = ManualClock(autoAdvance: true)
            let provider = GCPTokenProvider(source: .serviceAccountKey(path: "/secrets/key.json"),
                                            metadata: GCEMetadataClient(http: http, clock: clock), http: http, clock: clock,
                                            readFile: { _ in content })
            await #expect {
                try await provider.token()
            } throws: { error in
                guard let error = error as? KubeIPError else { return false }
                return error.code == .authentication && error.message.contains("/secrets/key.json") && error.message.contains(why)
                    && !error.message.contains("BEGIN") && error.resource == "/secrets/key.json"
            }
            #expect(http.requests.isEmpty)
        }
    }

    @Test func aRefusedKeyIsAnAuthenticationErrorWithoutTheAssertion() async throws {
        let key = try OpenSSLKey()
        defer { key.remove() }
        let file = try key.keyFile(tokenURI: "http://127.0.0.1:9/token")
        let http = ScriptedHTTP { _ in json(400, #"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#) }
        let clock = ManualClock(autoAdvance: true)
        let provider = GCPTokenProvider(source: .serviceAccountKey(path: "/k.json"), metadata: GCEMetadataClient(http: http, clock: clock),
                                        http: http, clock: clock, readFile: { _ in file })
        await #expect {
            try await provider.token()
        } throws: { error in
            guard let error = error as? KubeIPError else { return false }
            return error.code == .authentication && error.message.contains("invalid_grant: Invalid JWT Signature.")
                && error.message.contains("/k.json") && !error.message.contains("eyJ")
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
