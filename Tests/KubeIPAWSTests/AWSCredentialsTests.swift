import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPAWS

@Suite struct AWSCredentialsTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDEXAMPLE=="

    @Test func textualFormsNeverShowTheSecretOrTheToken() {
        let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Self.secret,
                                         sessionToken: Self.token, expiration: Date(timeIntervalSince1970: 1_795_795_200),
                                         source: "environment")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, credentials.debugDescription, "\(credentials)",
                     String(reflecting: credentials), dumped, "\([credentials])"] {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains(Self.token))
            #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"))
        }
        #expect(credentials.description == "AWS credentials …MPLE from environment, temporary, expiring 2026-11-27T16:00:00Z")
    }

    // MARK: Environment

    @Test func environmentProvider() async throws {
        let found = try await EnvironmentCredentialsProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": Self.token,
        ]).resolve()
        #expect(found == AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: Self.secret, sessionToken: Self.token,
                                        source: "environment"))
        #expect(try await EnvironmentCredentialsProvider(environment: [:]).resolve() == nil)
        await #expect(throws: KubeIPError.self) {
            try await EnvironmentCredentialsProvider(environment: ["AWS_ACCESS_KEY_ID": "AKIDENV"]).resolve()
        }
    }

    // MARK: Shared files

    static func files(_ contents: [String: String]) -> AWSFileReader {
        { path in contents[path] }
    }

    @Test func sharedCredentialsFileWithComments() async throws {
        let reader = Self.files(["/home/u/.aws/credentials": """
        # leading comment
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key=\(Self.secret)   ; inline comment
        ; another comment

        [  work  ]
        aws_access_key_id   =   AKIDWORK
        aws_secret_access_key = secretwork
        aws_session_token = \(Self.token)
        s3 =
          max_concurrent_requests = 20
        """])
        let byDefault = try await SharedFilesCredentialsProvider(environment: ["HOME": "/home/u"], readFile: reader).resolve()
        #expect(byDefault?.accessKeyID == "AKIDDEFAULT")
        #expect(byDefault?.secretAccessKey == Self.secret)
        #expect(byDefault?.sessionToken == nil)
        let work = try await SharedFilesCredentialsProvider(environment: ["HOME": "/home/u", "AWS_PROFILE": "work"],
                                                            readFile: reader).resolve()
        #expect(work?.accessKeyID == "AKIDWORK")
        #expect(work?.sessionToken == Self.token)
        let missing = SharedFilesCredentialsProvider(environment: ["HOME": "/home/u", "AWS_PROFILE": "nope"], readFile: reader)
        #expect(try await missing.resolve() == nil)
        #expect(missing.name == "shared files (profile nope)")
    }

    @Test func configFileProfilesAndFileOverrides() async throws {
        let reader = Self.files([
            "/etc/aws/config": """
            [default]
            region = eu-west-1
            [profile ops]
            aws_access_key_id = AKIDOPS
            aws_secret_access_key = secretops
            """,
            "/etc/aws/creds": "[other]\naws_access_key_id=X\naws_secret_access_key=Y\n",
        ])
        let environment = ["AWS_CONFIG_FILE": "/etc/aws/config", "AWS_SHARED_CREDENTIALS_FILE": "/etc/aws/creds"]
        // [default] in the config file has only a region: no credentials there.
        #expect(try await SharedFilesCredentialsProvider(environment: environment, readFile: reader).resolve() == nil)
        var ops = environment
        ops["AWS_PROFILE"] = "ops"
        #expect(try await SharedFilesCredentialsProvider(environment: ops, readFile: reader).resolve()?.accessKeyID == "AKIDOPS")
    }

    @Test func aProfileThatAssumesARoleIsRefusedRatherThanSkipped() async throws {
        let reader = Self.files(["/root/.aws/config": "[default]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n"])
        await #expect(throws: KubeIPError.self) {
            try await SharedFilesCredentialsProvider(environment: [:], readFile: reader).resolve()
        }
    }

    // MARK: Web identity

    static func region(_ name: String?, imds: IMDSClient? = nil) -> AWSRegionResolver {
        AWSRegionResolver(configured: name, imds: imds)
    }

    static let webIdentityEnvironment = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"]

    @Test func webIdentityUsesTheRegionLearnedFromIMDS() async throws {
        let fake = FakeAWS()
        fake.zone = "ap-southeast-2c"
        let clock = ManualClock()
        let imds = IMDSClient(http: fake, clock: clock, random: FixedRandom(), logger: LogCapture().logger())
        let provider = WebIdentityCredentialsProvider(
            environment: Self.webIdentityEnvironment, readFile: Self.files(["/t": "tok"]), region: Self.region(nil, imds: imds),
            http: fake, clock: clock, random: FixedRandom(), logger: LogCapture().logger())
        #expect(try await provider.resolve()?.accessKeyID == fake.stsCredentials.key)
        #expect(fake.requests.filter { $0.url.hasPrefix("https://sts.") }.map(\.url) == ["https://sts.ap-southeast-2.amazonaws.com/"])
    }

    @Test func webIdentityWithAnEndpointOverrideNeedsNoRegion() async throws {
        let fake = FakeAWS()
        fake.imdsReachable = false
        let http = ScriptedHTTP { request, _ in
            try await fake.send(HTTPRequest(method: request.method, url: request.url.replacing("http://127.0.0.1:4566", with: "https://sts.local"),
                                            headers: request.headers, body: request.body, timeout: request.timeout))
        }
        var environment = Self.webIdentityEnvironment
        environment["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:4566"
        let imds = IMDSClient(http: http, clock: ManualClock(), random: FixedRandom(), logger: LogCapture().logger())
        let provider = WebIdentityCredentialsProvider(
            environment: environment, readFile: Self.files(["/t": "tok"]), region: Self.region(nil, imds: imds),
            http: http, clock: ManualClock(), random: FixedRandom(), logger: LogCapture().logger())
        #expect(try await provider.resolve()?.accessKeyID == fake.stsCredentials.key)
        #expect(http.requests.map(\.url) == ["http://127.0.0.1:4566/"])
    }

    @Test func webIdentityCallsSTSUnsignedAndParsesTheAnswer() async throws {
        let fake = FakeAWS()
        let webToken = "eyJhbGciOiJSUzI1NiJ9.web-identity-token.signature"
        let provider = WebIdentityCredentialsProvider(
            environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/token",
                          "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/kubeip", "AWS_ROLE_SESSION_NAME": "node-a"],
            readFile: Self.files(["/var/run/secrets/token": webToken + "\n"]), region: Self.region("eu-west-1"), http: fake,
            clock: ManualClock(), random: FixedRandom(), logger: LogCapture().logger())
        let found = try #require(try await provider.resolve())
        #expect(found.accessKeyID == fake.stsCredentials.key)
        #expect(found.secretAccessKey == fake.stsCredentials.secret)
        #expect(found.sessionToken == fake.stsCredentials.token)
        #expect(found.expiration.map(UTCTime.iso8601) == "2026-11-27T17:00:00Z")
        let request = try #require(fake.requests.first)
        #expect(request.url == "https://sts.eu-west-1.amazonaws.com/")
        #expect(request.method == "POST")
        #expect(request.header("Authorization") == nil)
        #expect(request.form["Action"] == "AssumeRoleWithWebIdentity")
        #expect(request.form["Version"] == "2011-06-15")
        #expect(request.form["RoleArn"] == "arn:aws:iam::123456789012:role/kubeip")
        #expect(request.form["RoleSessionName"] == "node-a")
        #expect(request.form["WebIdentityToken"] == webToken)
    }

    @Test func stsEndpointResolution() {
        #expect(WebIdentityCredentialsProvider.endpoint(environment: [:], region: nil) == "https://sts.amazonaws.com")
        #expect(WebIdentityCredentialsProvider.endpoint(environment: [:], region: "cn-north-1")
                == "https://sts.cn-north-1.amazonaws.com.cn")
        #expect(WebIdentityCredentialsProvider.endpoint(environment: [:], region: "us-isob-east-1")
                == "https://sts.us-isob-east-1.sc2s.sgov.gov")
        #expect(WebIdentityCredentialsProvider.endpoint(environment: ["AWS_USE_FIPS_ENDPOINT": "true"], region: "us-east-2")
                == "https://sts-fips.us-east-2.amazonaws.com")
        #expect(WebIdentityCredentialsProvider.endpoint(environment: ["AWS_USE_FIPS_ENDPOINT": "true"], region: "eu-west-1")
                == "https://sts.eu-west-1.amazonaws.com")
        #expect(WebIdentityCredentialsProvider.endpoint(environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:5000"],
                                                        region: "eu-west-1") == "http://127.0.0.1:5000")
        #expect(WebIdentityCredentialsProvider.endpoint(
            environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:6000"],
            region: "eu-west-1") == "http://127.0.0.1:6000")
    }

    @Test func stsErrorsAreTyped() async throws {
        let http = ScriptedHTTP { _, _ in
            xmlResponse(400, """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>\
            <Code>InvalidIdentityToken</Code><Message>Incorrect token audience</Message></Error>\
            <RequestId>x</RequestId></ErrorResponse>
            """)
        }
        let provider = WebIdentityCredentialsProvider(
            environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"],
            readFile: Self.files(["/t": "tok"]), region: Self.region("eu-west-1"), http: http, clock: ManualClock(),
            random: FixedRandom(), logger: LogCapture().logger())
        do {
            _ = try await provider.resolve()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .authentication)
            #expect(error.resource == "sts:AssumeRoleWithWebIdentity")
            #expect(error.message.contains("Incorrect token audience"))
        }
    }

    @Test func stsErrorsAreScrubbedOfTheWebIdentityToken() async throws {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
        let http = ScriptedHTTP { request, _ in
            // A service that quotes the token back, whole and in part.
            let sent = request.form["WebIdentityToken"] ?? ""
            let signature = sent.split(separator: ".").last.map(String.init) ?? ""
            return xmlResponse(400, """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>\
            <Code>InvalidIdentityToken</Code><Message>Token \(sent) has a bad signature \(signature)</Message></Error>\
            <RequestId>x</RequestId></ErrorResponse>
            """)
        }
        let provider = WebIdentityCredentialsProvider(
            environment: Self.webIdentityEnvironment, readFile: Self.files(["/t": jwt]), region: Self.region("eu-west-1"),
            http: http, clock: ManualClock(), random: FixedRandom(), logger: LogCapture().logger())
        do {
            _ = try await provider.resolve()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .authentication)
            #expect(error.message.contains("Token <redacted> has a bad signature <redacted>"))
            for part in [jwt] + jwt.split(separator: ".").map(String.init) {
                #expect(!error.description.contains(part))
            }
        }
        #expect(AWSQueryError.scrub("a 12345678 b 123456789 c 1234", secrets: ["12345678", "123456789", "1234"])
                == "a <redacted> b <redacted> c 1234")
    }

    // MARK: Container

    @Test func containerRelativeURIWithAuthorizationFromAFile() async throws {
        let fake = FakeAWS()
        fake.containerAuthorization = "Bearer pod-identity-token"
        let provider = ContainerCredentialsProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/auth",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-the-file-is-set"],
            readFile: Self.files(["/var/run/auth": "Bearer pod-identity-token\n"]), http: fake, clock: ManualClock(),
            random: FixedRandom(), logger: LogCapture().logger())
        let found = try #require(try await provider.resolve())
        #expect(found.accessKeyID == "ASIACONTAINER0000001")
        #expect(found.sessionToken == "containerToken==CCCCCCCCCCCCCCCCCCCC")
        #expect(fake.requests.first?.url == "http://169.254.170.2/v2/credentials/abc")
    }

    @Test func containerFullURIMustBeSafe() async throws {
        let provider = ContainerCredentialsProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://evil.example.com/creds"],
            http: FakeAWS(), clock: ManualClock(), random: FixedRandom(), logger: LogCapture().logger())
        await #expect(throws: KubeIPError.self) { try await provider.resolve() }
        #expect(ContainerCredentialsProvider.isAllowedPlainHTTPHost("127.0.0.1"))
        #expect(ContainerCredentialsProvider.isAllowedPlainHTTPHost("169.254.170.23"))
        #expect(!ContainerCredentialsProvider.isAllowedPlainHTTPHost("10.0.0.1"))
    }

    // MARK: Chain

    func chain(_ environment: [String: String], fake: FakeAWS, clock: ManualClock,
               files: [String: String] = [:]) -> AWSCredentialsChain {
        let logger = LogCapture().logger()
        let imds = IMDSClient(http: fake, clock: clock, random: FixedRandom(), logger: logger)
        return AWSCredentialsChain.standard(environment: environment, readFile: Self.files(files), region: Self.region("eu-west-1"),
                                            imds: imds, http: fake, clock: clock, random: FixedRandom(), logger: logger)
    }

    @Test func theChainFollowsTheSDKOrder() async throws {
        let fake = FakeAWS()
        let clock = ManualClock()
        let everything: [String: String] = [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "envsecret",
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
            "HOME": "/h", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/c",
        ]
        let files = ["/t": "tok", "/h/.aws/credentials": "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=s\n"]
        var environment = everything
        #expect(try await chain(environment, fake: fake, clock: clock, files: files).credentials().accessKeyID == "AKIDENV")
        environment["AWS_ACCESS_KEY_ID"] = nil
        environment["AWS_SECRET_ACCESS_KEY"] = nil
        #expect(try await chain(environment, fake: fake, clock: clock, files: files).credentials().accessKeyID
                == fake.stsCredentials.key)
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = nil
        environment["AWS_ROLE_ARN"] = nil
        #expect(try await chain(environment, fake: fake, clock: clock, files: files).credentials().accessKeyID == "AKIDFILE")
        #expect(try await chain(environment, fake: fake, clock: clock).credentials().accessKeyID == "ASIACONTAINER0000001")
        environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = nil
        #expect(try await chain(environment, fake: fake, clock: clock).credentials().accessKeyID == fake.roleCredentials.key)
    }

    @Test func noCredentialsAnywhere() async throws {
        let fake = FakeAWS()
        fake.imdsRefusesConnections = true // not on EC2
        do {
            _ = try await chain(["AWS_PROFILE": "edge"], fake: fake, clock: ManualClock()).credentials()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .authentication)
            #expect(error.message == "no AWS credentials found: tried environment, web identity, shared files (profile edge), container, instance role")
        }
    }

    static let hopLimitHint = "IMDS did not answer within 2 s; if this runs in a container, the IMDS hop limit may be 1"

    @Test func anIMDSThatTimesOutIsUnavailableWithTheHopLimitHint() async throws {
        let fake = FakeAWS()
        fake.imdsReachable = false
        do {
            _ = try await chain([:], fake: fake, clock: ManualClock()).credentials()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .unavailable)
            #expect(error.isRetryable)
            #expect(error.message.hasPrefix("cannot fetch the instance role credentials: cannot reach the EC2 instance metadata service at http://169.254.169.254: Connection timed out"))
            #expect(error.message.hasSuffix("(\(Self.hopLimitHint))"))
        }
    }

    @Test func anIMDSThatAnswers5xxIsUnavailable() async throws {
        let fake = FakeAWS()
        fake.imdsIAMStatus = 503
        do {
            _ = try await chain([:], fake: fake, clock: ManualClock()).credentials()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .unavailable)
            #expect(error.message.hasSuffix("HTTP 503"))
        }
    }

    @Test func anInstanceWithoutARoleIsANonRetryableAuthenticationError() async throws {
        let fake = FakeAWS()
        fake.roleName = nil // IMDS answers 404 for iam/security-credentials/
        do {
            _ = try await chain([:], fake: fake, clock: ManualClock()).credentials()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .authentication)
            #expect(!error.isRetryable)
            #expect(error.message.contains("this instance has no IAM role attached"))
        }
    }

    @Test func anIMDSThatHasAnsweredAndThenFailsIsAnOutage() async throws {
        let fake = FakeAWS()
        let imds = IMDSClient(http: fake, clock: ManualClock(), random: FixedRandom(), logger: LogCapture().logger())
        let provider = InstanceRoleCredentialsProvider(imds: imds, logger: LogCapture().logger())
        // Before any answer, a refused connection means "not on EC2".
        fake.imdsRefusesConnections = true
        #expect(try await provider.resolve() == nil)
        // Once IMDS has answered (the identity, at start-up), the same failure is an outage.
        fake.imdsRefusesConnections = false
        _ = try await imds.instanceID()
        fake.imdsRefusesConnections = true
        do {
            _ = try await provider.resolve()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("Connection refused"))
        }
        // Any other failure after an answer (here a 403 on the role listing) is an outage too.
        fake.imdsRefusesConnections = false
        fake.imdsIAMStatus = 403
        await #expect(throws: KubeIPError(.unavailable, "cannot fetch the instance role credentials: the instance metadata service answered HTTP 403 for meta-data/iam/security-credentials/",
                                          resource: "http://169.254.169.254/latest/meta-data/iam/security-credentials/")) {
            try await provider.resolve()
        }
    }

    @Test func cachesAndRefreshesFiveMinutesBeforeExpiry() async throws {
        let fake = FakeAWS()
        let clock = ManualClock() // 16:00; the role credentials expire at 22:00
        let credentials = chain([:], fake: fake, clock: clock)
        let first = try await credentials.credentials()
        let calls = fake.requests.count
        clock.advance(by: 5 * 3600 + 54 * 60) // 21:54: six minutes left
        #expect(try await credentials.credentials() == first)
        #expect(fake.requests.count == calls)
        clock.advance(by: 120)                // 21:56: four minutes left → refresh
        fake.roleCredentials.key = "ASIAROLEKEY000000002"
        fake.roleCredentials.expiration = "2026-11-28T04:00:00Z"
        #expect(try await credentials.credentials().accessKeyID == "ASIAROLEKEY000000002")
        #expect(fake.requests.count > calls)
    }

    @Test func aFailedRefreshKeepsCredentialsThatHaveNotExpired() async throws {
        let fake = FakeAWS()
        let clock = ManualClock()
        let credentials = chain([:], fake: fake, clock: clock)
        let first = try await credentials.credentials()
        clock.advance(by: 5 * 3600 + 57 * 60) // three minutes left
        fake.imdsReachable = false
        #expect(try await credentials.credentials() == first)
        clock.advance(by: 4 * 60)             // expired
        do {
            _ = try await credentials.credentials()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            // IMDS answered before: its silence now is an outage to wait out, not "no credentials".
            #expect(error.code == .unavailable)
            #expect(error.message.contains(Self.hopLimitHint))
        }
    }

    @Test func parsesISO8601Expirations() {
        #expect(UTCTime.parseISO8601("2026-11-27T16:00:00Z")?.timeIntervalSince1970 == 1_795_795_200)
        #expect(UTCTime.parseISO8601("2026-11-27T16:00:00.500Z")?.timeIntervalSince1970 == 1_795_795_200.5)
        #expect(UTCTime.parseISO8601("2026-11-27T18:00:00+02:00")?.timeIntervalSince1970 == 1_795_795_200)
        #expect(UTCTime.parseISO8601("2026-11-27 16:00:00") != nil)
        #expect(UTCTime.parseISO8601("yesterday") == nil)
        #expect(UTCTime.amzDate(Date(timeIntervalSince1970: 951_825_600)) == "20000229T120000Z")
        #expect(UTCTime.iso8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    }
}
