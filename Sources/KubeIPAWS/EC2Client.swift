#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// Resolves the region once: the configured one, else the instance's (IMDS), lazily.
public actor AWSRegionResolver {
    private let configured: String?
    private let imds: IMDSClient?
    private var learned: String?

    /// `configured`: the region setting or environment; `imds`: where to learn it otherwise (nil: nowhere).
    public init(configured: String?, imds: IMDSClient?) {
        self.configured = configured
        self.imds = imds
    }

    /// The region; throws `.identity` (or `.invalidSetting` without IMDS) when it cannot be learned.
    public func region() async throws -> String {
        if let configured { return configured }
        if let learned { return learned }
        guard let imds else {
            throw KubeIPError(.invalidSetting, "no AWS region: set region, AWS_REGION or AWS_DEFAULT_REGION", setting: "region")
        }
        do {
            let found = try await imds.region()
            learned = found
            return found
        } catch let error as KubeIPError {
            throw KubeIPError(.identity, "no AWS region configured (region, AWS_REGION, AWS_DEFAULT_REGION) and \(error.message)",
                              setting: "region")
        }
    }
}

/// The EC2 Query API (version 2016-11-15): form-encoded POSTs signed with SigV4, XML answers.
public struct EC2Client: Sendable {
    /// The Query API version every request names.
    public static let apiVersion = "2016-11-15"

    let environment: [String: String]
    let region: AWSRegionResolver
    let credentials: AWSCredentialsChain
    let http: any HTTPClient
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    let backoff: Backoff
    let timeout: Duration

    /// `environment` supplies AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL; `backoff` paces retries.
    public init(environment: [String: String], region: AWSRegionResolver, credentials: AWSCredentialsChain,
                http: any HTTPClient, clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.aws.ec2"), backoff: Backoff = Backoff(),
                timeout: Duration = .seconds(20)) {
        self.environment = environment
        self.region = region
        self.credentials = credentials
        self.http = http
        self.clock = clock
        self.random = random
        self.logger = logger
        self.backoff = backoff
        self.timeout = timeout
    }

    /// Calls `action` with `parameters` and returns the parsed answer.
    ///
    /// Throttling and transient failures are retried with the backoff. Every action kubeip
    /// sends is safe to repeat: the Describe calls read; a repeated DisassociateAddress of
    /// an association that is gone answers NotFound, which the caller treats as done; and
    /// AssociateAddress is sent with AllowReassociation=false, so a retry after a lost answer
    /// either succeeds again on our own interface or fails with Resource.AlreadyAssociated —
    /// it can never take the address from another instance — and the engine reads the
    /// address back before it counts the claim.
    public func call(_ action: String, _ parameters: [(String, String)]) async throws -> AWSXMLElement {
        var attempts = 0
        return try await call(action, parameters, attempts: &attempts)
    }

    /// ``call(_:_:)`` that also counts the requests sent, so that a caller can tell whether an
    /// earlier attempt, whose answer was lost, may have taken effect.
    public func call(_ action: String, _ parameters: [(String, String)], attempts: inout Int) async throws -> AWSXMLElement {
        var trace = EC2CallTrace()
        defer { attempts += trace.attempts }
        return try await call(action, parameters, trace: &trace)
    }

    /// ``call(_:_:)`` that records what happened: the requests sent and EC2's error code, so that
    /// a caller can tell apart the refusals that share one ``KubeIPError`` code.
    func call(_ action: String, _ parameters: [(String, String)], trace: inout EC2CallTrace) async throws -> AWSXMLElement {
        let regionName = try await region.region()
        let endpoint = AWSEndpoints.ec2(environment, region: regionName)
        let body = Array(PercentEncoding.form([("Action", action), ("Version", Self.apiVersion)] + parameters).utf8)
        let unsigned = HTTPRequest(method: "POST", url: endpoint,
                                   headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                   body: body, timeout: timeout)
        let signer = SigV4Signer(service: "ec2", region: regionName)
        return try await backoff.run(clock: clock, random: random, logger: logger, "ec2 call failed, retrying",
                                     ["action": "\(action)"]) {
            var refreshed = false
            while true {
                let current = try await credentials.credentials()
                trace.attempts += 1
                do {
                    return try await attempt(action, unsigned, signer: signer, credentials: current,
                                             errorCode: &trace.errorCode)
                } catch let error as KubeIPError
                    where error.code == .authentication && current.sessionToken != nil && !refreshed {
                    // Temporary credentials may have been revoked or expired early: fetch new ones once.
                    refreshed = true
                    await credentials.invalidate()
                    continue
                }
            }
        }
    }

    private func attempt(_ action: String, _ unsigned: HTTPRequest, signer: SigV4Signer,
                         credentials: AWSCredentials, errorCode: inout String?) async throws -> AWSXMLElement {
        let request = signer.sign(unsigned, credentials: credentials, date: clock.now)
        let response = try await LoggedHTTP(http: http, logger: logger).send(
            request, "ec2 call", ["action": "\(action)"], requestID: AWSQueryError.requestID(response:)) { failure in
            KubeIPError(.unavailable, "cannot reach EC2 at \(URLParts(unsigned.url)?.origin ?? "?"): \(failure.reason)",
                        resource: "ec2:\(action)")
        }
        do {
            return try AWSQueryError.document(response, service: "ec2", action: action)
        } catch var error as KubeIPError {
            errorCode = AWSQueryError.codeAndMessage(try? AWSXML.parse(response.body))?.code
            error.message = Self.scrub(error.message, credentials)
            throw error
        }
    }

    /// Removes any credential material an error message might echo.
    static func scrub(_ text: String, _ credentials: AWSCredentials) -> String {
        AWSQueryError.scrub(text, secrets: [credentials.secretAccessKey, credentials.sessionToken ?? ""])
    }
}

/// What one EC2 call did, for callers that must tell refusals apart.
struct EC2CallTrace: Sendable {
    /// Requests sent, retries included.
    var attempts = 0
    /// EC2's error code (`InvalidAllocationID.NotFound`, …) of the last refused request; nil when none was refused
    /// or the answer carried no EC2 error.
    var errorCode: String?
}
