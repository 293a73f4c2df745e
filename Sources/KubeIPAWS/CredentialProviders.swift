#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
public struct EnvironmentCredentialsProvider: AWSCredentialsProvider {
    public let name = "environment"
    let environment: [String: String]

    public init(environment: [String: String]) { self.environment = environment }

    public func resolve() async throws -> AWSCredentials? {
        let key = environment["AWS_ACCESS_KEY_ID"]?.trimmedWhitespace ?? ""
        let secret = environment["AWS_SECRET_ACCESS_KEY"]?.trimmedWhitespace ?? ""
        switch (key.isEmpty, secret.isEmpty) {
        case (true, true): return nil
        case (false, true):
            throw KubeIPError(.authentication, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (true, false):
            throw KubeIPError(.authentication, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (false, false):
            let token = environment["AWS_SESSION_TOKEN"]?.trimmedWhitespace
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token, source: name)
        }
    }
}

/// AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: STS AssumeRoleWithWebIdentity (EKS IRSA and the like).
public struct WebIdentityCredentialsProvider: AWSCredentialsProvider {
    public let name = "web identity"
    let environment: [String: String]
    let readFile: AWSFileReader
    let region: AWSRegionResolver
    let http: any HTTPClient
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    let backoff: Backoff

    /// `region` picks the regional STS endpoint: the same resolution as EC2's (the setting,
    /// AWS_REGION, AWS_DEFAULT_REGION, then the instance's region from IMDS). It is not consulted
    /// when AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL names the endpoint.
    public init(environment: [String: String], readFile: @escaping AWSFileReader = localFileReader,
                region: AWSRegionResolver,
                http: any HTTPClient, clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.aws.credentials"), backoff: Backoff = Backoff(maxRetries: 4)) {
        self.environment = environment
        self.readFile = readFile
        self.region = region
        self.http = http
        self.clock = clock
        self.random = random
        self.logger = logger
        self.backoff = backoff
    }

    /// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional STS endpoint in the region's
    /// partition (FIPS where AWS_USE_FIPS_ENDPOINT=true and one exists); the global endpoint only
    /// when `region` is nil.
    public static func endpoint(environment: [String: String], region: String?) -> String {
        AWSEndpoints.sts(environment, region: region)
    }

    public func resolve() async throws -> AWSCredentials? {
        let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"]?.trimmedWhitespace ?? ""
        let roleARN = environment["AWS_ROLE_ARN"]?.trimmedWhitespace ?? ""
        guard !tokenFile.isEmpty || !roleARN.isEmpty else { return nil }
        guard !tokenFile.isEmpty else {
            throw KubeIPError(.authentication, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not")
        }
        guard !roleARN.isEmpty else {
            throw KubeIPError(.authentication, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        }
        guard let token = readFile(tokenFile)?.trimmedWhitespace, !token.isEmpty else {
            throw KubeIPError(.authentication, "cannot read the web identity token file \(tokenFile)", resource: tokenFile)
        }
        var session = environment["AWS_ROLE_SESSION_NAME"]?.trimmedWhitespace ?? ""
        if session.isEmpty { session = "kubeip-\(Int(clock.now.timeIntervalSince1970))" }
        let regionName = AWSEndpoints.override(environment, service: "STS") == nil ? try await region.region() : nil
        let endpoint = Self.endpoint(environment: environment, region: regionName)
        let body = PercentEncoding.form([
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"),
            ("RoleArn", roleARN), ("RoleSessionName", session), ("WebIdentityToken", token),
        ])
        let url = endpoint.hasSuffix("/") ? endpoint : endpoint + "/"
        let request = HTTPRequest(method: "POST", url: url,
                                  headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                  body: Array(body.utf8), timeout: .seconds(10))
        let action = "sts:AssumeRoleWithWebIdentity"
        let transport = LoggedHTTP(http: http, logger: logger)
        // What STS might echo back: the token, or one of its parts (a JWT's header, claims or signature).
        let secrets = [token] + token.split(separator: ".").map(String.init)
        let response = try await backoff.run(clock: clock, random: random, logger: logger, "aws call failed, retrying",
                                             ["action": "\(action)"]) {
            do {
                let response = try await transport.send(request, "aws call", ["action": "\(action)"],
                                                        requestID: AWSQueryError.requestID(response:)) { failure in
                    KubeIPError(.unavailable, "cannot reach STS at \(urlWithoutQuery(endpoint)): \(failure.reason)", resource: action)
                }
                return try AWSQueryError.document(response, service: "sts", action: "AssumeRoleWithWebIdentity")
            } catch var error as KubeIPError {
                error.message = AWSQueryError.scrub(error.message, secrets: secrets)
                throw error
            }
        }
        guard let credentials = response.first("Credentials"),
              let key = credentials.value("AccessKeyId"), !key.isEmpty,
              let secret = credentials.value("SecretAccessKey"), !secret.isEmpty else {
            throw KubeIPError(.authentication, "STS answered AssumeRoleWithWebIdentity without credentials", resource: action)
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: credentials.value("SessionToken"),
                              expiration: credentials.value("Expiration").flatMap(UTCTime.parseISO8601),
                              source: "web identity (\(roleARN))")
    }
}

/// ~/.aws/credentials and ~/.aws/config (or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE), profile AWS_PROFILE.
public struct SharedFilesCredentialsProvider: AWSCredentialsProvider {
    public var name: String { "shared files (profile \(profile))" }
    let environment: [String: String]
    let readFile: AWSFileReader
    public let profile: String

    public init(environment: [String: String], readFile: @escaping AWSFileReader = localFileReader) {
        self.environment = environment
        self.readFile = readFile
        let chosen = environment["AWS_PROFILE"]?.trimmedWhitespace ?? ""
        profile = chosen.isEmpty ? "default" : chosen
    }

    static func expandHome(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = environment["HOME"] ?? "/root"
        return home + path.dropFirst()
    }

    var credentialsPath: String {
        Self.expandHome(nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]) ?? "~/.aws/credentials", environment: environment)
    }

    var configPath: String {
        Self.expandHome(nonEmpty(environment["AWS_CONFIG_FILE"]) ?? "~/.aws/config", environment: environment)
    }

    public func resolve() async throws -> AWSCredentials? {
        // The credentials file wins over the config file for the same profile.
        var sources: [(path: String, keys: [String: String])] = []
        if let text = readFile(credentialsPath), let keys = INIFile.parse(text)[profile] {
            sources.append((credentialsPath, keys))
        }
        if let text = readFile(configPath) {
            let sections = INIFile.parse(text)
            let section = sections["profile \(profile)"] ?? (profile == "default" ? sections["default"] : nil)
            if let section { sources.append((configPath, section)) }
        }
        for (path, keys) in sources {
            let key = keys["aws_access_key_id"] ?? ""
            let secret = keys["aws_secret_access_key"] ?? ""
            if key.isEmpty && secret.isEmpty { continue }
            guard !key.isEmpty, !secret.isEmpty else {
                throw KubeIPError(.authentication,
                                  "profile '\(profile)' in \(path) has only one of aws_access_key_id and aws_secret_access_key",
                                  resource: path)
            }
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: keys["aws_session_token"],
                                  source: "\(path) (profile \(profile))")
        }
        // A profile that gets its credentials some other way must not fall through silently
        // to a different identity (the container or the instance role).
        let unsupported = ["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"]
        for (path, keys) in sources {
            if let found = unsupported.first(where: { keys[$0] != nil }) {
                throw KubeIPError(.authentication,
                                  "profile '\(profile)' in \(path) uses \(found), which kubeip does not support; use static keys, web identity (AWS_WEB_IDENTITY_TOKEN_FILE) or the instance role",
                                  resource: path)
            }
        }
        return nil
    }

    private func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmedWhitespace, !value.isEmpty else { return nil }
        return value
    }
}

/// The AWS shared-file dialect of INI: `[section]`, `key = value`, `#`/`;` comments.
enum INIFile {
    /// Sections by name (inner whitespace of `[profile  x]` collapsed), keys lower-cased.
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.trimmedWhitespace
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { current = nil; continue }
                let name = line[line.index(after: line.startIndex)..<close]
                    .split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            // Indented lines are sub-keys of a nested setting (e.g. `s3 =`): not credentials.
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmedWhitespace.lowercased()
            var value = Substring(line[line.index(after: equals)...])
            // An inline comment starts with whitespace then '#' or ';' (keys and tokens contain neither).
            for marker in [" #", "\t#", " ;", "\t;"] {
                if let range = value.firstRange(of: marker) { value = value[..<range.lowerBound] }
            }
            sections[section]?[key] = value.trimmedWhitespace
        }
        return sections
    }
}

/// The ECS/EKS container credentials endpoint.
public struct ContainerCredentialsProvider: AWSCredentialsProvider {
    public let name = "container"
    let environment: [String: String]
    let readFile: AWSFileReader
    let http: any HTTPClient
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger
    let backoff: Backoff

    public init(environment: [String: String], readFile: @escaping AWSFileReader = localFileReader,
                http: any HTTPClient, clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(),
                logger: Logger = Logger(label: "kubeip.aws.credentials"),
                backoff: Backoff = Backoff(initial: .milliseconds(200), cap: .seconds(2), maxRetries: 3)) {
        self.environment = environment
        self.readFile = readFile
        self.http = http
        self.clock = clock
        self.random = random
        self.logger = logger
        self.backoff = backoff
    }

    /// Hosts that may serve credentials over plain http.
    static func isAllowedPlainHTTPHost(_ host: String) -> Bool {
        let lowered = host.lowercased()
        return lowered == "localhost" || lowered.hasPrefix("127.") || lowered == "[::1]"
            || lowered == "169.254.170.2" || lowered == "169.254.170.23" || lowered == "[fd00:ec2::23]"
    }

    public func resolve() async throws -> AWSCredentials? {
        let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]?.trimmedWhitespace ?? ""
        let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"]?.trimmedWhitespace ?? ""
        let url: String
        if !relative.isEmpty {
            url = "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if !full.isEmpty {
            guard let parts = URLParts(full),
                  parts.scheme == "https" || Self.isAllowedPlainHTTPHost(parts.host) else {
                throw KubeIPError(.authentication,
                                  "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https URL or http on a loopback or the ECS/EKS credential address")
            }
            url = full
        } else {
            return nil
        }
        var headers: [HTTPHeader] = [HTTPHeader("Accept", "application/json")]
        let tokenFile = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]?.trimmedWhitespace ?? ""
        if !tokenFile.isEmpty {
            guard let token = readFile(tokenFile)?.trimmedWhitespace, !token.isEmpty else {
                throw KubeIPError(.authentication, "cannot read the container authorization token file \(tokenFile)",
                                  resource: tokenFile)
            }
            headers.append(HTTPHeader("Authorization", token))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"]?.trimmedWhitespace, !token.isEmpty {
            headers.append(HTTPHeader("Authorization", token))
        }
        let request = HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(5))
        let shown = urlWithoutQuery(url)
        let transport = LoggedHTTP(http: http, logger: logger)
        let body = try await backoff.run(clock: clock, random: random, logger: logger,
                                         "container credentials request failed, retrying", ["url": "\(shown)"]) {
            let response = try await transport.send(request, "container credentials request", ["url": "\(shown)"]) {
                KubeIPError(.unavailable, "cannot reach the container credentials endpoint \(shown): \($0.reason)")
            }
            switch response.status {
            case 200..<300: return response.body
            case 429: throw KubeIPError(.throttled, "the container credentials endpoint \(shown) is throttling")
            case 500...: throw KubeIPError(.unavailable, "the container credentials endpoint \(shown) answered HTTP \(response.status)")
            default:
                throw KubeIPError(.authentication, "the container credentials endpoint \(shown) answered HTTP \(response.status)")
            }
        }
        guard let credentials = CredentialDocument.credentials(from: body, source: name) else {
            throw KubeIPError(.authentication, "the container credentials endpoint \(shown) returned no usable credentials")
        }
        return credentials
    }
}

/// The instance role, through IMDS.
///
/// - An IMDS that has never answered and cannot be reached (connection refused, no route, the
///   service turned off) means "not on EC2": no credentials here, the chain reports what it tried.
/// - An IMDS that times out or answers 5xx, or fails in any way after it has answered once in
///   this process, is an outage: `.unavailable`, so that the engine waits and tries again.
/// - An instance without a role (IMDS lists none) is a non-retryable `.authentication` error.
public struct InstanceRoleCredentialsProvider: AWSCredentialsProvider {
    public let name = "instance role"
    let imds: IMDSClient
    let logger: Logger

    public init(imds: IMDSClient, logger: Logger = Logger(label: "kubeip.aws.credentials")) {
        self.imds = imds
        self.logger = logger
    }

    public func resolve() async throws -> AWSCredentials? {
        let found: AWSCredentials?
        do {
            found = try await imds.instanceRoleCredentials()
        } catch let error as KubeIPError where error.code == .identity || error.code == .unavailable {
            let answered = await imds.hasAnswered
            guard error.code == .unavailable || answered else {
                logger.debug("no instance metadata service, so no instance role", metadata: ["reason": "\(error.message)"])
                return nil
            }
            throw KubeIPError(.unavailable, "cannot fetch the instance role credentials: \(error.message)",
                              resource: "\(imds.endpoint)/latest/meta-data/iam/security-credentials/")
        }
        guard let found else {
            throw KubeIPError(.authentication,
                              "no AWS credentials found: none is configured and this instance has no IAM role attached (the instance metadata lists none under iam/security-credentials/); attach an instance profile or configure credentials")
        }
        return found
    }
}
