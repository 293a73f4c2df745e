import KubeIPConfig
import KubeIPCore
import KubeIPHTTP

/// Tells which cloud this machine runs on by asking both metadata services at once, with
/// short timeouts: the EC2 instance metadata service (an IMDSv2 token) and the GCE
/// metadata server (which answers with `Metadata-Flavor: Google`).
public struct CloudDetector: Sendable {
    let http: any HTTPClient
    let environment: [String: String]
    let timeout: Duration

    public init(http: any HTTPClient, environment: [String: String], timeout: Duration = .seconds(1)) {
        self.http = http
        self.environment = environment
        self.timeout = timeout
    }

    /// The endpoint of the EC2 instance metadata service (`AWS_EC2_METADATA_SERVICE_ENDPOINT`).
    var imdsEndpoint: String {
        trimmed(environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254")
    }

    /// The GCE metadata server (`GCE_METADATA_HOST` overrides the host).
    var gceEndpoint: String {
        environment["GCE_METADATA_HOST"].map { "http://\($0)" } ?? "http://metadata.google.internal"
    }

    /// Asks up to three times, a second apart, so that a metadata service still coming up at
    /// boot is not mistaken for no cloud.
    public func detect(attempts: Int = 3, pause: Duration = .seconds(1), clock: any WallClock = SystemClock()) async throws -> CloudChoice {
        for attempt in 1...max(1, attempts) {
            if let found = await probe() { return found }
            if attempt < attempts { try await clock.sleep(for: pause) }
        }
        throw KubeIPError(.identity,
                          "cannot tell which cloud this is: neither the EC2 instance metadata service (\(imdsEndpoint)) nor the GCE metadata server (\(gceEndpoint)) answered; set cloud: aws or gcp",
                          setting: "cloud")
    }

    private func probe() async -> CloudChoice? {
        async let aws = answers(HTTPRequest(method: "PUT", url: imdsEndpoint + "/latest/api/token",
                                            headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "60")],
                                            timeout: timeout)) { $0.status == 200 }
        async let gcp = answers(HTTPRequest(url: gceEndpoint + "/computeMetadata/v1/",
                                            headers: [HTTPHeader("Metadata-Flavor", "Google")], timeout: timeout)) {
            $0.status == 200 && $0.header("Metadata-Flavor") == "Google"
        }
        if await aws { return .aws }
        if await gcp { return .gcp }
        return nil
    }

    private func answers(_ request: HTTPRequest, _ accept: (HTTPResponse) -> Bool) async -> Bool {
        guard let response = try? await http.send(request) else { return false }
        return accept(response)
    }

    private func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
