import KubeIPCore
import KubeIPHTTP
import Logging

/// Builds the AWS adapter the executable runs.
public enum AWSCloud {
    /// Parses the filter (so a bad one fails before any call) and wires IMDS, the
    /// credentials chain, the EC2 client, the pool and the identity provider.
    ///
    /// - Parameters:
    ///   - filter: the `filter` setting, describe-addresses shorthand (empty = every address).
    ///   - region: the `region` setting; else AWS_REGION, else AWS_DEFAULT_REGION, else the
    ///     instance's region from IMDS, learned at the first EC2 or STS call. It picks the EC2 and
    ///     STS endpoints in the region's partition; AWS_USE_FIPS_ENDPOINT=true picks their FIPS
    ///     endpoints where they exist.
    ///   - environment: the process environment (AWS_* variables, HOME).
    ///   - readFile: reads shared credential files and token files.
    ///   - instance: the instance, when known without instance metadata (kube mode): identity then
    ///     comes from one `ec2:DescribeInstances` (its primary interface), and its region is the
    ///     region used (the caller checks that a `region` setting agrees).
    /// - Throws: ``KubeIPError`` `.invalidSetting` for a malformed filter or endpoint override.
    public static func make(filter: String, region: String?, environment: [String: String], http: any HTTPClient,
                            clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                            readFile: @escaping AWSFileReader = localFileReader,
                            instance: KnownInstance? = nil, logger: Logger) throws -> CloudAdapter {
        let parsed = try EC2Filter.parse(filter)
        for name in ["AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_EC2_METADATA_SERVICE_ENDPOINT"] {
            if let value = environment[name]?.trimmedWhitespace, !value.isEmpty, URLParts(value) == nil {
                throw KubeIPError.invalid(name, "expected an http:// or https:// URL, got '\(value)'")
            }
        }
        let configuredRegion = instance?.region ?? AWSEndpoints.configuredRegion(setting: region, environment: environment)
        let imds = IMDSClient(endpoint: IMDSClient.endpoint(environment: environment), http: http, clock: clock,
                              random: random, logger: logger)
        // One resolver for EC2 and STS: the same region, and IMDS asked for it at most once.
        let regionResolver = AWSRegionResolver(configured: configuredRegion, imds: imds)
        let credentials = AWSCredentialsChain.standard(environment: environment, readFile: readFile,
                                                       region: regionResolver, imds: imds, http: http, clock: clock,
                                                       random: random, logger: logger)
        let ec2 = EC2Client(environment: environment, region: regionResolver,
                            credentials: credentials, http: http, clock: clock, random: random, logger: logger)
        let identity: any IdentityProvider = switch instance {
        case nil: AWSIdentityProvider(imds: imds)
        case let node?: AWSNodeIdentityProvider(ec2: ec2, instanceID: node.instanceID, zone: node.zone, region: node.region)
        }
        return CloudAdapter(name: "aws", identity: identity, pool: AWSAddressPool(ec2: ec2, filter: parsed, logger: logger))
    }

    /// An instance known from outside instance metadata (kube mode: the Node's providerID).
    public struct KnownInstance: Sendable, Equatable {
        public var instanceID: String
        public var zone: String
        public var region: String

        public init(instanceID: String, zone: String, region: String) {
            self.instanceID = instanceID
            self.zone = zone
            self.region = region
        }
    }
}
