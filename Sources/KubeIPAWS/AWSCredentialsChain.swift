#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// Finds credentials in the SDKs' order and caches them, refreshing temporary ones a few
/// minutes before they expire.
///
/// Once a provider has answered, refreshes ask that provider first. A provider that is
/// configured but fails stops the search (it does not fall through to another identity).
public actor AWSCredentialsChain {
    /// The sources, in the order they are tried.
    public nonisolated let providers: [any AWSCredentialsProvider]
    private let clock: any WallClock
    private let logger: Logger
    private let refreshMargin: TimeInterval

    private let cache: RefreshingCache<AWSCredentials>
    private var chosen: Int?

    public init(providers: [any AWSCredentialsProvider], clock: any WallClock = SystemClock(),
                logger: Logger = Logger(label: "kubeip.aws.credentials"), refreshMargin: Duration = .seconds(300)) {
        self.providers = providers
        self.clock = clock
        self.logger = logger
        self.refreshMargin = refreshMargin.seconds
        self.cache = RefreshingCache(clock: clock)
    }

    /// The SDKs' order: environment, web identity, shared files, container, instance role.
    ///
    /// `region` places the STS endpoint for web identity; share EC2's resolver so that a region
    /// learned from IMDS is asked for once.
    public static func standard(environment: [String: String], readFile: @escaping AWSFileReader = localFileReader,
                                region: AWSRegionResolver, imds: IMDSClient, http: any HTTPClient,
                                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                                logger: Logger = Logger(label: "kubeip.aws.credentials")) -> AWSCredentialsChain {
        AWSCredentialsChain(providers: [
            EnvironmentCredentialsProvider(environment: environment),
            WebIdentityCredentialsProvider(environment: environment, readFile: readFile, region: region, http: http,
                                           clock: clock, random: random, logger: logger),
            SharedFilesCredentialsProvider(environment: environment, readFile: readFile),
            ContainerCredentialsProvider(environment: environment, readFile: readFile, http: http, clock: clock,
                                         random: random, logger: logger),
            InstanceRoleCredentialsProvider(imds: imds, logger: logger),
        ], clock: clock, logger: logger)
    }

    /// Current credentials, from the cache while they are fresh.
    public func credentials() async throws -> AWSCredentials {
        let margin = refreshMargin
        let logger = logger
        return try await cache.value(onStale: { error, current in
            // A failed refresh keeps credentials that have not expired yet.
            logger.warning("cannot refresh AWS credentials, using the current ones until they expire",
                           metadata: ["error": "\(error)", "expires": "\(current.expiration.map(UTCTime.iso8601) ?? "?")"])
        }, load: {
            let found = try await self.load()
            // Temporary credentials: refreshed `margin` before they expire, usable until then.
            return .init(found, freshUntil: found.expiration?.addingTimeInterval(-margin), usableUntil: found.expiration)
        })
    }

    /// Forgets the cached credentials (after AWS rejected them as expired).
    public func invalidate() async {
        await cache.invalidate()
    }

    private func load() async throws -> AWSCredentials {
        if let chosen, let found = try await providers[chosen].resolve() {
            logger.debug("refreshed AWS credentials", metadata: ["credentials": "\(found)"])
            return found
        }
        for (index, provider) in providers.enumerated() {
            if let found = try await provider.resolve() {
                chosen = index
                logger.debug("using AWS credentials", metadata: ["credentials": "\(found)"])
                return found
            }
        }
        throw KubeIPError(.authentication,
                          "no AWS credentials found: tried \(providers.map(\.name).joined(separator: ", "))")
    }
}
