import Foundation
import KubeIPConfig
import KubeIPCore
import KubeIPSimulator
import Testing
@testable import KubeIPKube

@Suite struct KubeCredentialProviderTests {
    @Test func aTokenFileIsReadAgainAfterAMinute() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("token", "first-token\n")
        let clock = ManualClock()
        let provider = TokenFileCredentialProvider(path: path, clock: clock)
        #expect(try await provider.credential().token?.value == "first-token")
        try directory.write("token", "rotated-token")
        clock.advance(by: .seconds(59))
        #expect(try await provider.credential().token?.value == "first-token")
        clock.advance(by: .seconds(1))
        #expect(try await provider.credential().token?.value == "rotated-token")
    }

    @Test func aRefusedTokenIsReadAgainAtOnce() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("token", "first-token")
        let provider = TokenFileCredentialProvider(path: path, clock: ManualClock())
        let first = try await provider.credential()
        try directory.write("token", "rotated-token")
        await provider.refused(first)
        #expect(try await provider.credential().token?.value == "rotated-token")
    }

    @Test func aMissingOrEmptyTokenFileIsAnAuthenticationError() async throws {
        let files = InMemoryFileSystem(["/sa/token": "  \n"])
        for path in ["/sa/token", "/sa/missing"] {
            let error = await #expect(throws: KubeIPError.self) {
                _ = try await TokenFileCredentialProvider(path: path, fileSystem: files, clock: ManualClock()).credential()
            }
            #expect(error?.code == .authentication)
            #expect(error?.message.contains(path) == true)
        }
    }

    @Test func sourcesMakeTheirProviders() async throws {
        #expect(try await KubeCredentialSource.none.provider(environment: [:]).credential() == .none)
        let token = try await KubeCredentialSource.token(KubeSecret("t")).provider(environment: [:]).credential()
        #expect(token.token?.value == "t")
        let files = InMemoryFileSystem(["/sa/token": "from-file"])
        let file = try await KubeCredentialSource.tokenFile("/sa/token").provider(environment: [:], fileSystem: files).credential()
        #expect(file.token?.value == "from-file")
    }

    @Test func secretsNeverPrint() {
        let credential = KubeCredential(token: KubeSecret("s3cr3t-value"),
                                        clientCertificate: .init(certificate: [1, 2], key: Array("KEYBYTES".utf8)))
        var dumped = ""
        dump(credential, to: &dumped)
        for text in ["\(credential)", String(reflecting: credential), dumped, "\(KubeSecret("s3cr3t-value"))",
                     String(reflecting: KubeSecret("s3cr3t-value")), "\(KubeCredentialSource.token(KubeSecret("s3cr3t-value")))"] {
            #expect(!text.contains("s3cr3t"))
            #expect(!text.contains("KEYBYTES"))
        }
    }
}
