import KubeIPCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Secret files the systemd way.
///
/// A setting that names a secret file may name it relative to `$CREDENTIALS_DIRECTORY`
/// (where systemd puts what `LoadCredential=` loads): a bare name (`aws-credentials`)
/// resolves there, and an absolute path that does not exist falls back to the file of the
/// same name there. A secret file that other users can read is refused, naming the file.
public enum SecretFiles {
    /// Environment variables that name a secret file.
    public static let variables = [
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "GOOGLE_APPLICATION_CREDENTIALS",
    ]

    /// Static AWS credentials that may be handed over as systemd credentials, by file name.
    public static let awsCredentialFiles = [
        ("aws-access-key-id", "AWS_ACCESS_KEY_ID"), ("aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"),
        ("aws-session-token", "AWS_SESSION_TOKEN"),
    ]

    /// Returns `environment` with every secret-file variable resolved to an absolute path,
    /// after checking that each existing file is not readable by other users. When no AWS key
    /// is in the environment, `aws-access-key-id`, `aws-secret-access-key` and
    /// `aws-session-token` in `$CREDENTIALS_DIRECTORY` provide one.
    public static func resolve(_ environment: [String: String]) throws -> [String: String] {
        var resolved = environment
        let credentials = environment["CREDENTIALS_DIRECTORY"].flatMap { $0.isEmpty ? nil : $0 }
        if let credentials, (environment["AWS_ACCESS_KEY_ID"] ?? "").isEmpty {
            for (file, variable) in awsCredentialFiles {
                let path = credentials + "/" + file
                guard exists(path) else { continue }
                try checkPrivate(path, variable: nil)
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw KubeIPError(.io, "cannot read the credential \(path)", setting: variable, resource: path)
                }
                resolved[variable] = String(String(decoding: data, as: UTF8.self).filter { !$0.isWhitespace })
            }
        }
        for name in variables {
            guard let value = environment[name], !value.isEmpty else { continue }
            let path = try resolvePath(value, variable: name, credentialsDirectory: credentials)
            try checkPrivate(path, variable: name)
            resolved[name] = path
        }
        return resolved
    }

    static func resolvePath(_ value: String, variable: String, credentialsDirectory: String?) throws -> String {
        if !value.contains("/") {
            guard let credentialsDirectory else {
                throw KubeIPError.invalid(variable, "'\(value)' is a bare name, which means a systemd credential, but CREDENTIALS_DIRECTORY is not set; use an absolute path or LoadCredential=\(value):<path>")
            }
            return credentialsDirectory + "/" + value
        }
        if !exists(value), let credentialsDirectory {
            let candidate = credentialsDirectory + "/" + (value.split(separator: "/").last.map(String.init) ?? value)
            if exists(candidate) { return candidate }
        }
        return value
    }

    /// Refuses a file whose permissions let other users read it.
    /// - Parameter variable: the environment variable that named the file, if one did.
    public static func checkPrivate(_ path: String, variable: String?) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }   // a missing file is reported by its reader
        if info.st_mode & S_IROTH != 0 {
            throw KubeIPError(.invalidSetting,
                              "\(path) is readable by other users; a secret file must not be (chmod o-r \(path))",
                              setting: variable, resource: path)
        }
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}
