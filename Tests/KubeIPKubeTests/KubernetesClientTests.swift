import Foundation
import Synchronization
import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
import Testing
@testable import KubeIPKube

/// Retries, Retry-After, the 401 refresh, error mapping and secrecy of the request machinery.
@Suite struct KubernetesClientTests {
    private let token = "sekret-token-abc123"
    private let path = "/api/v1/nodes/n1"
    private let node = #"{"metadata":{"name":"n1"}}"#

    private func client(_ api: FakeKubeAPI, clock: ManualClock = ManualClock(autoAdvance: true),
                        credentials: (any KubeCredentialProvider)? = nil, logs: LogCapture = LogCapture()) -> KubernetesClient {
        KubernetesClient(connection: testConnection(token: token), http: api, credentials: credentials, clock: clock,
                         random: FixedRandom(0), logger: logs.logger,
                         backoff: Backoff(initial: .seconds(1), multiplier: 2, cap: .seconds(8), maxRetries: 3))
    }

    @Test(arguments: [429, 500, 502, 503, 504])
    func throttlingAndServerErrorsAreRetriedWithBackoff(status: Int) async throws {
        let clock = ManualClock(autoAdvance: true)
        let api = FakeKubeAPI([Exchange(method: "GET", path: path, status: status, body: "busy"),
                               Exchange(method: "GET", path: path, status: status, body: "busy"),
                               Exchange(method: "GET", path: path, body: node)])
        _ = try await client(api, clock: clock).getNode("n1")
        #expect(api.requests.count == 3)
        #expect(clock.sleeps == [.milliseconds(500), .seconds(1)])
    }

    @Test func retryAfterIsHonouredFromTheHeaderOrTheStatus() async throws {
        let clock = ManualClock(autoAdvance: true)
        let api = FakeKubeAPI([
            Exchange(method: "GET", path: path, status: 429, body: #"{"kind":"Status","reason":"TooManyRequests","code":429}"#,
                     headers: [HTTPHeader("Retry-After", "7")]),
            Exchange(method: "GET", path: path, status: 500,
                     body: #"{"kind":"Status","reason":"ServerTimeout","code":500,"details":{"retryAfterSeconds":3}}"#),
            Exchange(method: "GET", path: path, status: 429, headers: [HTTPHeader("Retry-After", "3600")]),
            Exchange(method: "GET", path: path, body: node),
        ])
        _ = try await client(api, clock: clock).getNode("n1")
        #expect(clock.sleeps == [.seconds(7), .seconds(3), .seconds(30)])
    }

    @Test func retriesRunOutIntoTheTypedError() async throws {
        let api = FakeKubeAPI(Array(repeating: Exchange(method: "GET", path: path, status: 503,
                                                        body: #"{"kind":"Status","reason":"ServiceUnavailable","message":"etcd is down","code":503}"#), count: 4))
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(api).getNode("n1") }
        #expect(error?.reason == .serviceUnavailable)
        #expect(error?.kubeIPError.code == .unavailable)
        #expect(error?.kubeIPError.isRetryable == true)
        #expect(api.requests.count == 4)
    }

    @Test func transportFailuresAreRetriedThenUnavailable() async throws {
        let failure = HTTPTransportError(url: "https://kube.test:6443/api/v1/nodes/n1", reason: "Connection refused", isTimeout: false)
        let api = FakeKubeAPI([Exchange(method: "GET", path: path, failure: failure),
                               Exchange(method: "GET", path: path, body: node)])
        _ = try await client(api).getNode("n1")
        #expect(api.requests.count == 2)

        let down = FakeKubeAPI(Array(repeating: Exchange(method: "GET", path: path, failure: failure), count: 4))
        let error = await #expect(throws: KubeIPError.self) { _ = try await client(down).getNode("n1") }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("cannot reach the Kubernetes API at https://kube.test:6443 for get nodes/n1") == true)
    }

    @Test(arguments: [400, 403, 404, 405, 409, 410, 422])
    func clientErrorsAreNeverRetried(status: Int) async throws {
        let api = FakeKubeAPI([Exchange(method: "GET", path: path, status: status, body: "{}")])
        await #expect(throws: KubeAPIError.self) { _ = try await client(api).getNode("n1") }
        #expect(api.requests.count == 1)
    }

    /// A token that changes when refused, counting how often it was asked for and refused.
    private actor RotatingToken: KubeCredentialProvider {
        var current = 1
        var refusals = 0
        func credential() async throws -> KubeCredential { KubeCredential(token: KubeSecret("token-\(current)")) }
        func refused(_ credential: KubeCredential) async {
            refusals += 1
            if credential.token?.value == "token-\(current)" { current += 1 }
        }
    }

    @Test func a401RefreshesTheCredentialOnceAndRetries() async throws {
        let rotating = RotatingToken()
        let api = FakeKubeAPI([
            Exchange(method: "GET", path: path, status: 401, body: #"{"kind":"Status","reason":"Unauthorized","code":401}"#) {
                #expect($0.header("Authorization") == "Bearer token-1")
            },
            Exchange(method: "GET", path: path, body: node) { #expect($0.header("Authorization") == "Bearer token-2") },
        ])
        _ = try await client(api, credentials: rotating).getNode("n1")
        #expect(await rotating.refusals == 1)
    }

    @Test func aSecond401IsAnAuthenticationError() async throws {
        let rotating = RotatingToken()
        let refusal = Exchange(method: "GET", path: path, status: 401,
                               body: #"{"kind":"Status","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#)
        let api = FakeKubeAPI([refusal, refusal])
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(api, credentials: rotating).getNode("n1") }
        #expect(error?.reason == .unauthorized)
        let core = try #require(error?.kubeIPError)
        #expect(core.code == .authentication)
        #expect(core.message == "the Kubernetes API refused the credentials (401 Unauthorized) for get nodes/n1: Unauthorized")
        #expect(core.exitCode == 77)
        #expect(await rotating.refusals == 1)
        #expect(api.requests.count == 2)
    }

    @Test func a403NamesTheRBACGrant() async throws {
        let api = FakeKubeAPI([Exchange(method: "PATCH", path: path, status: 403, body: """
            {"kind":"Status","apiVersion":"v1","status":"Failure","message":"nodes \\"n1\\" is forbidden: User \\"system:serviceaccount:kube-system:kubeip\\" cannot patch resource \\"nodes\\" in API group \\"\\" at the cluster scope","reason":"Forbidden","details":{"name":"n1","kind":"nodes"},"code":403}
            """)])
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(api).patchNode("n1", JSONPatch()) }
        let core = try #require(error?.kubeIPError)
        #expect(core.code == .permissionDenied)
        #expect(core.resource == "patch nodes/n1")
        #expect(core.message.hasPrefix("the Kubernetes API forbids patch nodes/n1 (403 Forbidden): nodes \"n1\" is forbidden"))
        #expect(core.message.hasSuffix("kubeip's RBAC role must grant 'patch' on 'nodes' in the core API group"))
    }

    @Test func aNonStatusErrorBodyGivesTheReasonFromTheStatusCode() async throws {
        let api = FakeKubeAPI([Exchange(method: "GET", path: path, status: 404, body: "<html>404 page not found</html>\nmore")])
        let error = await #expect(throws: KubeAPIError.self) { _ = try await client(api).getNode("n1") }
        #expect(error?.reason == .notFound)
        #expect(error?.message == "<html>404 page not found</html>")
        #expect(error?.kubeIPError.code == .notFound)
    }

    @Test func anUnreadableSuccessBodyIsACloudError() async throws {
        let api = FakeKubeAPI([Exchange(method: "GET", path: path, body: #"{"metadata":{"name":3}}"#)])
        let error = await #expect(throws: KubeIPError.self) { _ = try await client(api).getNode("n1") }
        #expect(error?.code == .cloudAPI)
        #expect(error?.message.contains("metadata.name") == true)
    }

    @Test func theTokenNeverReachesALogLineOrAnError() async throws {
        let logs = LogCapture()
        // Servers that echo the token back, in a Status message and in a transport error.
        let echo = #"{"kind":"Status","reason":"Unauthorized","message":"token sekret-token-abc123 is not valid","code":401}"#
        let failure = HTTPTransportError(url: "https://kube.test:6443/api/v1/nodes/n1",
                                         reason: "proxy said: Bearer sekret-token-abc123", isTimeout: true)
        let api = FakeKubeAPI([Exchange(method: "GET", path: path, status: 401, body: echo),
                               Exchange(method: "GET", path: path, status: 401, body: echo)]
                              + Array(repeating: Exchange(method: "GET", path: path, failure: failure), count: 4)
                              + [Exchange(method: "GET", path: path, status: 403, body: echo.replacing("401", with: "403"))])
        let client = client(api, logs: logs)
        var texts: [String] = []
        for _ in 0..<3 {
            do { _ = try await client.getNode("n1") } catch {
                texts += ["\(error)", String(reflecting: error), KubernetesClient.coreError(error).description]
            }
        }
        texts += logs.all + ["\(client.connection)", String(reflecting: client.connection)]
        var dumped = ""
        dump(client.connection, to: &dumped)
        texts.append(dumped)
        #expect(texts.count > 10)
        for text in texts { #expect(!text.contains(token), "token leaked: \(text)") }
        #expect(logs.all.contains { $0.contains("status=401") && $0.contains("method=GET") && $0.contains("url=https://kube.test:6443/api/v1/nodes/n1") })
        #expect(logs.all.contains { $0.contains("status=timeout") })
    }

    @Test func logLinesCarryMethodPathStatusAndDurationButNoQuery() async throws {
        let logs = LogCapture()
        let api = FakeKubeAPI([Exchange(method: "GET", path: path, body: node)])
        _ = try await client(api, logs: logs).getNode("n1")
        let line = try #require(logs.all.first { $0.contains("kubernetes API call") })
        #expect(line.hasPrefix("debug"))
        for part in ["method=GET", "url=https://kube.test:6443/api/v1/nodes/n1", "status=200", "duration_ms=", "verb=get", "resource=nodes/n1"] {
            #expect(line.contains(part))
        }
        #expect(!line.contains("Bearer"))
    }

    @Test func coreErrorOfAnyFailure() {
        let api = KubeAPIError(reason: .conflict, status: 409, verb: "update", resource: "leases/ns/x", message: "modified")
        #expect(KubernetesClient.coreError(api).code == .conflict)
        #expect(KubernetesClient.coreError(KubeIPError(.io, "disk")).code == .io)
        #expect(KubernetesClient.coreError(CancellationError()).code == .unavailable)
    }

    @Test func anExecClientCertificateGetsItsOwnTransport() async throws {
        /// A certificate that changes when refused.
        actor Certificates: KubeCredentialProvider {
            var serial = 1
            func credential() async throws -> KubeCredential {
                KubeCredential(clientCertificate: .init(certificate: Array("CERT-\(serial)".utf8), key: Array("KEY-\(serial)".utf8)))
            }
            func refused(_ credential: KubeCredential) async { serial += 1 }
        }
        let made = Made()
        let api = FakeKubeAPI([Exchange(method: "GET", path: path, status: 401, body: "{}"),
                               Exchange(method: "GET", path: path, body: node),
                               Exchange(method: "GET", path: path, body: node)])
        let client = KubernetesClient(connection: KubeConnection(server: "https://kube.test:6443", origin: "test"),
                                      credentials: Certificates(), makeHTTPClient: { tls in made.add(tls); return api },
                                      clock: ManualClock(autoAdvance: true))
        _ = try await client.getNode("n1")
        _ = try await client.getNode("n1")
        let identities = made.all.map { $0.clientCertificate }
        #expect(identities == [nil, .data(Array("CERT-1".utf8)), .data(Array("CERT-2".utf8))])
        #expect(api.requests.allSatisfy { $0.header("Authorization") == nil })
    }

    private final class Made: Sendable {
        private let list = Mutex<[TLSOptions]>([])
        func add(_ tls: TLSOptions) { list.withLock { $0.append(tls) } }
        var all: [TLSOptions] { list.withLock { $0 } }
    }
}
