import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
import KubeIPSimulator
@testable import KubeIPTestSupport

/// Fixtures made with `openssl genrsa 2048` and `openssl dgst -sha256 -sign`: a JWT signed by
/// the key below and the same claims signed by another key. iat = 1800000000 (the
/// ManualClock's default start), exp = iat + 3600.
enum JWTFixtures {
    static let publicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApbngY4g0lEd8nIWyAZzt
        tEzipZoluNRTwxAvoKO2hsRe3I5lUTTVUPSvzF51ZFpMjTLKVncjkWtIctyDXRwd
        n7LCXiGON4PXgjUjiPs+eCWgntELNqjY2m5AX2F14TdiGbbL7UOklBP6u/3qGB81
        tib/Na/LuVoJvpagLAXbBpZqYhIfZFSosZ6zUJN/CrnteTf8NFDGWhyQh64c3feZ
        1oVBU8QuCKj1aaP8y7H6BR3+J4AF7Wv+MpezNPvbPIkdZGsv3qTi5UdE3qf466Ch
        H6Dzam9ohbSeM1HqwVjA0n3fFYFcITp7t0aQZ79yDbJC5//lcGGxagV8yHG5n17X
        EwIDAQAB
        -----END PUBLIC KEY-----
        """
    static let rsaPublicKeyPEM = """
        -----BEGIN RSA PUBLIC KEY-----
        MIIBCgKCAQEApbngY4g0lEd8nIWyAZzttEzipZoluNRTwxAvoKO2hsRe3I5lUTTV
        UPSvzF51ZFpMjTLKVncjkWtIctyDXRwdn7LCXiGON4PXgjUjiPs+eCWgntELNqjY
        2m5AX2F14TdiGbbL7UOklBP6u/3qGB81tib/Na/LuVoJvpagLAXbBpZqYhIfZFSo
        sZ6zUJN/CrnteTf8NFDGWhyQh64c3feZ1oVBU8QuCKj1aaP8y7H6BR3+J4AF7Wv+
        MpezNPvbPIkdZGsv3qTi5UdE3qf466ChH6Dzam9ohbSeM1HqwVjA0n3fFYFcITp7
        t0aQZ79yDbJC5//lcGGxagV8yHG5n17XEwIDAQAB
        -----END RSA PUBLIC KEY-----
        """
    static let signingInput = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
        + "eyJpc3MiOiJrdWJlaXBAa3ViZWlwLXNpbS5pYW0uZ3NlcnZpY2VhY2NvdW50LmNvbSIsInNjb3BlIjoiaHR0cHM6Ly93d3cuZ29vZ2xlYXBpcy5jb20vYXV0aC9jb21wdXRlIiwiYXVkIjoiaHR0cHM6Ly9vYXV0aDIuZ29vZ2xlYXBpcy5jb20vdG9rZW4iLCJpYXQiOjE4MDAwMDAwMDAsImV4cCI6MTgwMDAwMzYwMH0"
    static let goodJWT = signingInput + "."
        + "memZ_VOGkNBy5JW7IatZSD4DC70nXPCQULLqOzmDfLjJ8N8jJj-ZYvWwznuuMXg2zfEBFeRDee9dZ81ho1R0svgGBclQmkE1ZUXnmcLtd_tnRccTDcQsdbdfJouoOEJY14tEWVASLDm5YfjlU3oowiR5Gj1U7sXEP1OmP5ajxiWQ5waIgoROimq82Ji0gzUBiGpkUoktNgdNl4zQgAMNZdTIDvEZOBZmSJoHl_xFejQf7CYvmPp3a4hlF5Sp-9AkMmyYGWMlRCqxAl47Yh-BaELQdFU50Rrl_IYjjqbv-mmr1O-EoMMntxQ38r8HbxaqAJJfLNKf0BEvC0HZUuYA5Q"
    static let otherKeyJWT = signingInput + "."
        + "ANJS7HDCmDvuRvOEiwjEt2jWgpMnrY2NGYAOLH_NGkpZTLlNCE6SDR5iUjVRqYXKeFc7bdtD14RAcy4Ef38rZeO00dLPPWdRA3p3w39UUtFDsBhydFEuRyRjrmQuY6fXum4sYg61IQye1gAxvEmANuMKICwQiPg6G1MCXt_PuaaOXRIIzRDU2UawnXmP6W2onagERwVgQEl3ikfV7hvap8ghn8k8fUDNWuZUkqizDDg9Ovi2oOXgZOi32cLYNpcSOvD9RbSan6RMHjaagUp6gbNW7-mBY1B_jG9lYU9u0a_i3_MhM-_t-sImF_qZgiFaGcznER3CTnh16olW_7ZcTA"
}

/// The JWT-bearer token endpoint.
@Suite struct ComputeEngineDoubleOAuthTests {
    static func exchange(_ double: ComputeEngineDouble, assertion: String,
                         grant: String = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
                         contentType: String = "application/x-www-form-urlencoded") async throws -> (Int, JSONValue) {
        let response = try await double.offCloudClient().send(HTTPRequest(
            method: "POST", url: "https://oauth2.googleapis.com/token",
            headers: [HTTPHeader("Content-Type", contentType)],
            body: Array("grant_type=\(grant)&assertion=\(assertion)".utf8)))
        return (response.status, try JSONValue(parsing: response.body))
    }

    static func double(verifying: Bool = true) -> (ComputeEngineDouble, ManualClock) {
        let clock = ManualClock()
        let configuration = ComputeEngineDouble.Configuration(serviceAccountPublicKeyPEM: verifying ? JWTFixtures.publicKeyPEM : nil)
        return (ComputeEngineDouble(configuration: configuration, clock: clock), clock)
    }

    @Test func aSignedAssertionBuysATokenForItsScopes() async throws {
        let (double, _) = Self.double()
        let (status, json) = try await Self.exchange(double, assertion: JWTFixtures.goodJWT)
        #expect(status == 200)
        #expect(json["token_type"] == "Bearer")
        #expect(json["expires_in"]?.intValue == 3599)
        let token = try #require(json["access_token"]?.stringValue)
        await double.createInstance(name: "vm-1")
        let instance = try await double.offCloudClient().send(HTTPRequest(
            url: GCEWorld.base + "zones/europe-west1-b/instances/vm-1", headers: [HTTPHeader("Authorization", "Bearer \(token)")]))
        #expect(instance.status == 200)
        #expect(await double.receivedAssertions == [JWTFixtures.goodJWT])
    }

    @Test func aSignatureByAnotherKeyOrOverOtherClaimsIsRefused() async throws {
        let (double, _) = Self.double()
        let (status, json) = try await Self.exchange(double, assertion: JWTFixtures.otherKeyJWT)
        #expect(status == 400)
        #expect(json["error"] == "invalid_grant")
        let signature = JWTFixtures.goodJWT.split(separator: ".")[2]
        let claims = Data(#"{"iss":"kubeip@kubeip-sim.iam.gserviceaccount.com","scope":"https://www.googleapis.com/auth/cloud-platform","aud":"https://oauth2.googleapis.com/token","iat":1800000000,"exp":1800003600}"#.utf8)
            .base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
        let tampered = "\(JWTFixtures.signingInput.split(separator: ".")[0]).\(claims).\(signature)"
        #expect(try await Self.exchange(double, assertion: tampered).0 == 400)
    }

    @Test func withoutAKeyOnlyTheStructureAndClaimsAreChecked() async throws {
        let (double, _) = Self.double(verifying: false)
        #expect(try await Self.exchange(double, assertion: JWTFixtures.otherKeyJWT).0 == 200)
        #expect(try await Self.exchange(double, assertion: "not.a.jwt").0 == 400)
    }

    @Test func expiredOrLongLivedAssertionsAreRefused() async throws {
        let (double, clock) = Self.double()
        clock.advance(by: .seconds(3601))
        let (status, json) = try await Self.exchange(double, assertion: JWTFixtures.goodJWT)
        #expect(status == 400)
        #expect(json["error"] == "invalid_grant")
    }

    @Test func theGrantTypeAndFormEncodingAreRequired() async throws {
        let (double, _) = Self.double()
        let (status, json) = try await Self.exchange(double, assertion: JWTFixtures.goodJWT, grant: "client_credentials")
        #expect(status == 400)
        #expect(json["error"] == "unsupported_grant_type")
        #expect(try await Self.exchange(double, assertion: JWTFixtures.goodJWT, contentType: "application/json").0 == 400)
        #expect(try await Self.exchange(double, assertion: "").0 == 400)
    }

    @Test func anotherIssuerIsRefused() async throws {
        let clock = ManualClock()
        let double = ComputeEngineDouble(configuration: .init(serviceAccountEmail: "someone@else.iam.gserviceaccount.com",
                                                              serviceAccountPublicKeyPEM: JWTFixtures.publicKeyPEM), clock: clock)
        #expect(try await Self.exchange(double, assertion: JWTFixtures.goodJWT).0 == 400)
    }
}

/// The plain-Swift RS256 check and SHA-256 behind it.
@Suite struct RSAPublicKeyTests {
    @Test func bothPEMFormsReadTheSameKey() throws {
        let spki = try #require(RSAPublicKey(pem: JWTFixtures.publicKeyPEM))
        let pkcs1 = try #require(RSAPublicKey(pem: JWTFixtures.rsaPublicKeyPEM))
        #expect(spki.modulus == pkcs1.modulus)
        #expect(spki.exponent == [0x01, 0x00, 0x01])
        #expect(spki.modulus.count == 256)
        #expect(RSAPublicKey(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----") == nil)
    }

    @Test func verifiesOpenSSLSignaturesAndOnlyThose() throws {
        let key = try #require(RSAPublicKey(pem: JWTFixtures.publicKeyPEM))
        let message = Array(JWTFixtures.signingInput.utf8)
        let good = try #require(Base64URL.decode(JWTFixtures.goodJWT.split(separator: ".")[2]))
        let other = try #require(Base64URL.decode(JWTFixtures.otherKeyJWT.split(separator: ".")[2]))
        #expect(key.verifyRS256(signature: good, message: message))
        #expect(!key.verifyRS256(signature: other, message: message))
        #expect(!key.verifyRS256(signature: good, message: message + [0x20]))
        var flipped = good
        flipped[100] ^= 1
        #expect(!key.verifyRS256(signature: flipped, message: message))
        #expect(!key.verifyRS256(signature: Array(good.dropFirst()), message: message))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func verifiesAFreshOpenSSLKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gce-double-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "openssl \(arguments)")
        }
        try openssl(["genrsa", "-out", "key.pem", "3072"])
        try openssl(["rsa", "-in", "key.pem", "-pubout", "-out", "pub.pem"])
        let message = Array("header.claims-\(UUID().uuidString)".utf8)
        try Data(message).write(to: directory.appendingPathComponent("message"))
        try openssl(["dgst", "-sha256", "-sign", "key.pem", "-out", "signature", "message"])
        let pem = try String(contentsOf: directory.appendingPathComponent("pub.pem"), encoding: .utf8)
        let signature = Array(try Data(contentsOf: directory.appendingPathComponent("signature")))
        let key = try #require(RSAPublicKey(pem: pem))
        #expect(key.verifyRS256(signature: signature, message: message))
        #expect(!key.verifyRS256(signature: signature, message: message.dropLast()))
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256MatchesTheStandardVectors(_ input: String, _ expected: String) {
        let digest = SHA256Digest.hash(Array(input.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(digest == expected)
    }

    @Test func sha256HandlesBlockBoundaries() {
        // 55, 56 and 64 bytes straddle the padding boundary; a million 'a's is the long vector.
        let million = SHA256Digest.hash([UInt8](repeating: 0x61, count: 1_000_000)).map { String(format: "%02x", $0) }.joined()
        #expect(million == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        let boundaries = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
        ]
        for (length, expected) in boundaries {
            let digest = SHA256Digest.hash([UInt8](repeating: 0x61, count: length)).map { String(format: "%02x", $0) }.joined()
            #expect(digest == expected, "\(length) bytes")
        }
    }
}
