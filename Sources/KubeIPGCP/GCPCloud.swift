import KubeIPCore
import KubeIPHTTP
import Logging

/// Builds the GCP adapter the executable runs.
public enum GCPCloud {
    /// Validates the filter and the endpoint overrides (so a bad one fails before any call), then
    /// wires the metadata client, the token provider, the Compute client, the pool and the
    /// identity provider. Makes no network call.
    ///
    /// - Parameters:
    ///   - filter: the `filter` setting: API filter clauses separated by `;` (empty = every address).
    ///   - orderBy: the `order-by` setting, passed to addresses.list's orderBy exactly.
    ///   - project: the `project` setting: when given, it must name the VM's project (the
    ///     metadata server's, by id or number), else discovery fails naming `project`.
    ///   - region: the `region` setting: when given, it must be the VM's region (its zone
    ///     without the last `-x` part), else discovery fails naming `region`.
    ///   - families: the families to hold (both work: the engine asks once per family).
    ///   - environment: GCE_METADATA_HOST, GOOGLE_APPLICATION_CREDENTIALS,
    ///     CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE.
    ///   - readFile: reads the service account key file.
    ///   - instance: the VM, when known without the metadata server (kube mode: the Node's
    ///     providerID); the metadata server is then asked only for tokens (Workload Identity).
    /// - Throws: ``KubeIPError`` `.invalidSetting` naming `filter`, `ip-families`,
    ///   GCE_METADATA_HOST or CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE.
    public static func make(filter: String, orderBy: String?, project: String?, region: String?, families: [IPFamily],
                            environment: [String: String], http: any HTTPClient,
                            clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                            readFile: @escaping GCPFileReader = gcpLocalFileReader,
                            instance: GCPNodeIdentityProvider? = nil, logger: Logger) throws -> CloudAdapter {
        let parsed = try GCPFilter.parse(filter)
        guard !families.isEmpty else {
            throw KubeIPError.invalid("ip-families", "expected ipv4, ipv6 or ipv4,ipv6")
        }
        let metadata = GCEMetadataClient(endpoint: try GCEMetadataClient.endpoint(environment: environment), http: http,
                                         clock: clock, random: random, logger: logger)
        let tokens = GCPTokenProvider(source: GCPTokenProvider.source(environment: environment), metadata: metadata,
                                      http: http, clock: clock, random: random, readFile: readFile, logger: logger)
        let compute = ComputeClient(baseURL: try ComputeClient.baseURL(environment: environment), tokens: tokens, http: http,
                                    clock: clock, random: random, logger: logger)
        let identity: any IdentityProvider = instance ?? GCPIdentityProvider(metadata: metadata, project: project, region: region)
        return CloudAdapter(name: "gcp", identity: identity,
                            pool: GCPAddressPool(compute: compute, filter: parsed, orderBy: orderBy, logger: logger))
    }
}
