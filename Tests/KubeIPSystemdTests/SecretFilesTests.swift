import Foundation
import KubeIPCore
@testable import KubeIPSystemd
import Testing

@Suite struct SecretFilesTests {
    private func tempDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "kubeip-secrets-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func write(_ path: String, mode: Int) throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data("secret".utf8))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    @Test func bareNamesResolveInTheCredentialsDirectory() throws {
        let creds = try tempDirectory()
        try write(creds + "/aws-credentials", mode: 0o400)
        let env = try SecretFiles.resolve(["CREDENTIALS_DIRECTORY": creds, "AWS_SHARED_CREDENTIALS_FILE": "aws-credentials"])
        #expect(env["AWS_SHARED_CREDENTIALS_FILE"] == creds + "/aws-credentials")
    }

    @Test func missingAbsolutePathFallsBackToTheCredentialOfTheSameName() throws {
        let creds = try tempDirectory()
        try write(creds + "/key.json", mode: 0o400)
        let env = try SecretFiles.resolve(["CREDENTIALS_DIRECTORY": creds,
                                           "GOOGLE_APPLICATION_CREDENTIALS": "/etc/kubeip/missing/key.json"])
        #expect(env["GOOGLE_APPLICATION_CREDENTIALS"] == creds + "/key.json")
    }

    @Test func existingAbsolutePathsAreKept() throws {
        let dir = try tempDirectory()
        try write(dir + "/token", mode: 0o600)
        let env = try SecretFiles.resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": dir + "/token"])
        #expect(env["AWS_WEB_IDENTITY_TOKEN_FILE"] == dir + "/token")
    }

    @Test func worldReadableSecretsAreRefusedNamingTheFile() throws {
        let dir = try tempDirectory()
        try write(dir + "/credentials", mode: 0o644)
        let error = #expect(throws: KubeIPError.self) {
            try SecretFiles.resolve(["AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials"])
        }
        #expect(error?.message.contains(dir + "/credentials") == true)
        #expect(error?.setting == "AWS_SHARED_CREDENTIALS_FILE")
        #expect(error?.exitCode == 78)
    }

    @Test func bareNameWithoutCredentialsDirectoryIsAConfigurationError() {
        let error = #expect(throws: KubeIPError.self) {
            try SecretFiles.resolve(["AWS_SHARED_CREDENTIALS_FILE": "aws-credentials"])
        }
        #expect(error?.setting == "AWS_SHARED_CREDENTIALS_FILE")
    }

    @Test func staticAWSKeysComeFromSystemdCredentials() throws {
        let creds = try tempDirectory()
        try write(creds + "/aws-access-key-id", mode: 0o400)
        try write(creds + "/aws-secret-access-key", mode: 0o400)
        let env = try SecretFiles.resolve(["CREDENTIALS_DIRECTORY": creds])
        #expect(env["AWS_ACCESS_KEY_ID"] == "secret")
        #expect(env["AWS_SECRET_ACCESS_KEY"] == "secret")
        #expect(env["AWS_SESSION_TOKEN"] == nil)
        // Keys in the environment win: the credentials are not read.
        let explicit = try SecretFiles.resolve(["CREDENTIALS_DIRECTORY": creds, "AWS_ACCESS_KEY_ID": "AKIDENV"])
        #expect(explicit["AWS_ACCESS_KEY_ID"] == "AKIDENV")
        #expect(explicit["AWS_SECRET_ACCESS_KEY"] == nil)
    }
}
