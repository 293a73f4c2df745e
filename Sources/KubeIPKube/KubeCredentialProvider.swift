#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPConfig
import KubeIPCore
import Logging

/// Supplies the credential of each request, and learns when the API refused one (401), so that
/// a rotated token file is read again or an exec plugin run again before the request is retried.
public protocol KubeCredentialProvider: Sendable {
    /// The credential for the next request.
    func credential() async throws -> KubeCredential
    /// The API answered 401 to `credential`: forget it if it is still the current one.
    func refused(_ credential: KubeCredential) async
}

/// A credential that never changes (a kubeconfig `token`, or none).
public struct StaticCredentialProvider: KubeCredentialProvider {
    public let fixed: KubeCredential
    public init(_ credential: KubeCredential) { self.fixed = credential }
    public func credential() async throws -> KubeCredential { fixed }
    public func refused(_ credential: KubeCredential) async {}
}

/// A token read from a file that is rewritten as it rotates (the projected service account
/// token, a kubeconfig `tokenFile`): read again once ``refreshInterval`` has passed, and
/// right after the API refused the token read last.
public struct TokenFileCredentialProvider: KubeCredentialProvider {
    /// The file.
    public let path: String
    /// How long a read is trusted (client-go: one minute).
    public let refreshInterval: Duration
    private let fileSystem: any FileSystemReading
    private let clock: any WallClock
    private let cache: RefreshingCache<KubeCredential>

    public init(path: String, fileSystem: any FileSystemReading = RealFileSystem(), clock: any WallClock = SystemClock(),
                refreshInterval: Duration = .seconds(60)) {
        self.path = path
        self.refreshInterval = refreshInterval
        self.fileSystem = fileSystem
        self.clock = clock
        self.cache = RefreshingCache(clock: clock)
    }

    public func credential() async throws -> KubeCredential {
        let (path, fileSystem, clock, interval) = (path, fileSystem, clock, refreshInterval)
        return try await cache.value {
            let text: String?
            do {
                text = try fileSystem.readFile(atPath: path)
            } catch let error as KubeIPError {
                throw KubeIPError(.authentication, "cannot read the Kubernetes token file: \(error.message)", resource: path)
            }
            guard let token = text?.trimmedWhitespace, !token.isEmpty else {
                throw KubeIPError(.authentication, "the Kubernetes token file \(path) is missing or empty", resource: path)
            }
            return .init(KubeCredential(token: KubeSecret(token)), freshUntil: clock.now.addingTimeInterval(interval.seconds))
        }
    }

    public func refused(_ credential: KubeCredential) async {
        await cache.invalidate(ifCurrent: credential)
    }
}

extension KubeCredentialSource {
    /// The provider for this source. `environment` is the process environment exec plugins
    /// start from.
    public func provider(environment: [String: String], fileSystem: any FileSystemReading = RealFileSystem(),
                         clock: any WallClock = SystemClock(),
                         logger: Logger = Logger(label: "kubeip.kube.credentials")) -> any KubeCredentialProvider {
        switch self {
        case .none: StaticCredentialProvider(.none)
        case .token(let token): StaticCredentialProvider(KubeCredential(token: token))
        case .tokenFile(let path): TokenFileCredentialProvider(path: path, fileSystem: fileSystem, clock: clock)
        case .exec(let config): ExecCredentialProvider(config: config, environment: environment, clock: clock, logger: logger)
        }
    }
}
