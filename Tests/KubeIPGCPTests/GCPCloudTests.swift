import Foundation
import KubeIPCore
import KubeIPCrypto
import KubeIPHTTP
import KubeIPSimulator
import Testing
@testable import KubeIPGCP

@Suite struct GCPCloudTests {
    @Test func invalidSettingsFailBeforeAnyCall() async throws {
        let http = ScriptedHTTP { _ in Issue.record("no call expected"); return json(500, "{}") }
        let cases: [(String, [String: String], [IPFamily], String)] = [
            ("labels.env=prod;;", [:], [.ipv4], "filter"),
            ("labels.env", [:], [.ipv4], "filter"),
            ("", ["CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE": "http://127.0.0.1:1/"], [.ipv4], "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"),
            ("", ["GCE_METADATA_HOST": "http://169.254.169.254/"], [.ipv4], "GCE_METADATA_HOST"),
            ("", [:], [], "ip-families"),
        ]
        for (filter, environment, families, setting) in cases {
            #expect {
                try GCPCloud.make(filter: filter, orderBy: nil, project: nil, region: nil, families: families,
                                  environment: environment, http: http, logger: LogCapture().logger())
            } throws: { error in
                let error = error as? KubeIPError
                return error?.code == .invalidSetting && error?.setting == setting && error?.exitCode == 78
            }
        }
        #expect(http.requests.isEmpty)
    }

    @Test func theAdapterIsNamedGCPAndHonoursTheEndpointOverrides() async throws {
        let world = GCEWorld { configuration in
            configuration.metadataHost = "127.0.0.1:8089"
            configuration.computeBaseURL = "http://127.0.0.1:8085/compute/v1/"
        }
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-1")
        let cloud = try world.adapter("vm-1", environment: [
            "GCE_METADATA_HOST": "127.0.0.1:8089",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE": "http://127.0.0.1:8085/compute/v1",
        ])
        #expect(cloud.name == "gcp")
        let me = try await cloud.identity.identity()
        #expect(me.cloud == "gcp")
        #expect(me.project == "kubeip-sim")
        #expect(try await cloud.pool.addresses(family: .ipv4, for: me).map(\.id) == ["edge-a"])
        #expect(await world.double.requests.allSatisfy { $0.url.hasPrefix("http://127.0.0.1:808") })
    }

    @Test func aServiceAccountKeyIsExchangedAndNoSecretReachesTheLogs() async throws {
        let key = try OpenSSLKey()
        defer { key.remove() }
        let publicPEM = try String(contentsOf: key.directory.appendingPathComponent("pub.pem"), encoding: .utf8)
        let world = GCEWorld { $0.serviceAccountPublicKeyPEM = publicPEM }
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        // A VM without a service account: only the key file can authenticate.
        await world.double.createInstance(name: "vm-1", serviceAccountScopes: nil)
        let keyFile = try key.keyFile(email: "kubeip@kubeip-sim.iam.gserviceaccount.com")
        let cloud = try world.adapter("vm-1", environment: ["GOOGLE_APPLICATION_CREDENTIALS": "/etc/kubeip/sa.json"],
                                      readFile: { $0 == "/etc/kubeip/sa.json" ? keyFile : nil })
        let engine = AddressEngine(cloud: cloud, settings: EngineSettings(), clock: world.clock, random: FixedRandom(),
                                   logger: world.logs.logger("engine"))
        let held = try await engine.acquire()
        #expect(held.first?.address.id == "edge-a")
        try await engine.release()

        let assertions = await world.double.receivedAssertions
        #expect(assertions.count == 1)
        let assertion = try #require(assertions.first)
        let parts = assertion.split(separator: ".")
        let signature = try #require(Base64Decoding.decode(parts[2]))
        #expect(try key.verify("\(parts[0]).\(parts[1])", signature: signature))

        let tokens = Set(await world.double.requests.compactMap { $0.headers.first { $0.name == "Authorization" }?.value }
            .map { String($0.dropFirst("Bearer ".count)) })
        #expect(!tokens.isEmpty)
        let logged = world.logs.text
        #expect(logged.contains("compute call"))
        for secret in tokens.union([assertion, String(parts[2]), "PRIVATE KEY", "Bearer"]) {
            #expect(!logged.contains(secret), "a secret reached the trace logs")
        }
    }

    @Test func theVMsServiceAccountTokenNeverReachesTheLogs() async throws {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-1")
        await world.double.injectFailure(status: 401, count: 1, matching: "/addresses")
        let engine = try world.engine("vm-1")
        try await engine.acquire()
        let tokens = Set(await world.double.requests.compactMap { $0.headers.first { $0.name == "Authorization" }?.value })
        #expect(!tokens.isEmpty)
        for token in tokens { #expect(!world.logs.text.contains(token.dropFirst("Bearer ".count))) }
        #expect(await world.double.requests.filter { $0.path.hasSuffix("/token") }.count == 2)
    }

    @Test func aVMWithoutExternalAddressGetsAnEphemeralOneAtTheEndOfAnEmptyRound() async throws {
        let world = GCEWorld()
        await world.double.createInstance(name: "vm-1", withEphemeralIPv4: false)
        let engine = try world.engine("vm-1", retryAttempts: 2)
        await #expect {
            try await engine.acquire()
        } throws: { ($0 as? KubeIPError)?.code == .poolExhausted }
        let configs = await world.double.accessConfigs(of: "vm-1")
        #expect(configs.count == 1)
        #expect(configs.first?.isEphemeral == true)
        // One read of the interface per round that ends without an address (two looks), one put-back.
        #expect(await world.double.requests(for: "compute.instances.get").count == 2)
        #expect(await world.double.requests(for: "compute.instances.addAccessConfig").count == 1)
    }

    @Test func anOperationErrorIsSurfaced() async throws {
        let world = GCEWorld { $0.operationDelay = .seconds(1) }
        await world.double.createInstance(name: "vm-1")
        let double = world.double
        let path = "https://compute.googleapis.com/compute/v1/projects/kubeip-sim/zones/europe-west1-b/instances/vm-1/deleteAccessConfig"
        // Someone else deletes the same access config just before us: both pass the API's checks,
        // and our operation fails once theirs has run.
        let theirs = Once("/deleteAccessConfig") {
            let token = await double.issueToken()
            _ = try? await double.client(for: "vm-1").send(HTTPRequest(
                method: "POST", url: path + "?accessConfig=External%20NAT&networkInterface=nic0",
                headers: [HTTPHeader("Authorization", "Bearer \(token)")]))
        }
        let http = Interposer(inner: double.client(for: "vm-1"), before: { await theirs($0) })
        let tokens = GCPTokenProvider(source: .metadata, metadata: GCEMetadataClient(http: http, clock: world.clock),
                                      http: http, clock: world.clock)
        let client = ComputeClient(tokens: tokens, http: http, clock: world.clock, random: FixedRandom())
        await #expect {
            try await client.deleteAccessConfig(project: "kubeip-sim", zone: "europe-west1-b", instance: "vm-1",
                                                accessConfig: "External NAT")
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .cloudAPI && error?.message.contains("INVALID_USAGE") == true
                && error?.message.contains("operation-") == true
                && error?.resource == "compute.instances.deleteAccessConfig"
        }
    }
}

enum Base64Decoding {
    static func decode(_ text: Substring) -> [UInt8]? { KubeIPCrypto.Base64.decode(String(text)) }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
