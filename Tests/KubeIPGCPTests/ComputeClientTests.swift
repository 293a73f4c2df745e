import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
import Testing
@testable import KubeIPGCP

/// A Compute client whose token comes from a scripted metadata server; `compute` answers the rest.
func scriptedCompute(clock: ManualClock = ManualClock(autoAdvance: true), logs: LogCapture = LogCapture(),
                     _ compute: @escaping (HTTPRequest) throws -> HTTPResponse) -> (ComputeClient, ScriptedHTTP) {
    let tokens = Counter()
    let http = ScriptedHTTP { request in
        if request.url.hasPrefix("http://metadata.google.internal/") {
            let n = tokens.next()
            return metadataAnswer(#"{"access_token":"ya29.token-\#(n)","expires_in":3599,"token_type":"Bearer"}"#)
        }
        return try compute(request)
    }
    let metadata = GCEMetadataClient(http: http, clock: clock)
    let provider = GCPTokenProvider(source: .metadata, metadata: metadata, http: http, clock: clock, logger: logs.logger())
    let client = ComputeClient(tokens: provider, http: http, clock: clock, random: FixedRandom(), logger: logs.logger())
    return (client, http)
}

extension ScriptedHTTP {
    var computeRequests: [HTTPRequest] { requests.filter { $0.url.hasPrefix("https://compute.googleapis.com/") } }
}

let base = "/compute/v1/projects/kubeip-prod"

@Suite struct ComputeClientTests {
    @Test func listsEveryPageWithTheFilterAndOrderExactly() async throws {
        let (client, http) = scriptedCompute { request in
            #expect(request.path == "\(base)/regions/europe-west1/addresses")
            if request.query("pageToken") == nil {
                return json(200, #"{"kind":"compute#addressList","items":[{"name":"a","address":"34.0.0.1","status":"RESERVED"}],"nextPageToken":"p2"}"#)
            }
            #expect(request.query("pageToken") == "p2")
            return json(200, #"{"kind":"compute#addressList","items":[{"name":"b","address":"34.0.0.2","status":"IN_USE","users":["x"]}]}"#)
        }
        let filter = #"(labels.env=prod) AND (addressType = "EXTERNAL") AND (ipVersion != "IPV6")"#
        let items = try await client.listAddresses(project: "kubeip-prod", region: "europe-west1", filter: filter,
                                                   orderBy: "creationTimestamp desc")
        #expect(items.map(\.name) == ["a", "b"])
        #expect(items[1].users == ["x"])
        let requests = http.computeRequests
        #expect(requests.count == 2)
        for request in requests {
            #expect(request.method == "GET")
            #expect(request.query("filter") == filter)
            #expect(request.query("orderBy") == "creationTimestamp desc")
            #expect(request.header("Authorization") == "Bearer ya29.token-1")
            #expect(!request.url.contains("+"))
        }
        #expect(requests[0].url.contains("orderBy=creationTimestamp%20desc"))
    }

    @Test func baseURLFromTheEnvironment() throws {
        let name = "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"
        #expect(try ComputeClient.baseURL(environment: [:]) == "https://compute.googleapis.com/compute/v1/")
        #expect(try ComputeClient.baseURL(environment: [name: "http://127.0.0.1:8085/compute/v1"]) == "http://127.0.0.1:8085/compute/v1/")
        #expect(try ComputeClient.baseURL(environment: [name: "https://x.example/compute/v1/"]) == "https://x.example/compute/v1/")
        for bad in ["http://127.0.0.1:8085/", "ftp://x/compute/v1/", "compute/v1/"] {
            #expect {
                try ComputeClient.baseURL(environment: [name: bad])
            } throws: { ($0 as? KubeIPError)?.setting == name && ($0 as? KubeIPError)?.code == .invalidSetting }
        }
    }

    @Test func throttlingWaitsWhatRetryAfterAsksOnTheInjectedClock() async throws {
        let clock = ManualClock(autoAdvance: true)
        let answers = Queue([.success(googleError(429, "Rate Limit Exceeded", reason: "rateLimitExceeded",
                                                  headers: [HTTPHeader("Retry-After", "7")])),
                             .success(googleError(503, "Backend Error", reason: "backendError")),
                             .success(json(200, #"{"name":"a","address":"34.0.0.1"}"#))])
        let (client, http) = scriptedCompute(clock: clock) { _ in try answers.next() }
        let address = try await client.getAddress(project: "kubeip-prod", region: "europe-west1", name: "a")
        #expect(address.address == "34.0.0.1")
        #expect(http.computeRequests.count == 3)
        // Retry-After first, then the backoff's own delay (attempt 1 of 200 ms × 2, equal jitter at 0.5).
        #expect(clock.sleeps == [.seconds(7), .milliseconds(300)])
    }

    @Test func transportFailuresAreRetriedThenUnavailable() async throws {
        let clock = ManualClock(autoAdvance: true)
        let (client, http) = scriptedCompute(clock: clock) { _ in throw transportTimeout }
        await #expect {
            try await client.getInstance(project: "kubeip-prod", zone: "europe-west1-b", name: "edge-1")
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .unavailable && error?.resource == "compute.instances.get"
        }
        #expect(http.computeRequests.count == Backoff().maxRetries + 1)
        #expect(clock.sleeps.count == Backoff().maxRetries)
    }

    @Test func unauthorizedRefreshesTheTokenOnceThenFails() async throws {
        let answers = Queue([.success(googleError(401, "Invalid Credentials", reason: "authError")),
                             .success(json(200, #"{"name":"edge-1"}"#))])
        let (client, http) = scriptedCompute { _ in try answers.next() }
        _ = try await client.getInstance(project: "kubeip-prod", zone: "europe-west1-b", name: "edge-1")
        #expect(http.computeRequests.map { $0.header("Authorization") } == ["Bearer ya29.token-1", "Bearer ya29.token-2"])

        let (failing, failingHTTP) = scriptedCompute { _ in googleError(401, "Invalid Credentials", reason: "authError") }
        await #expect {
            try await failing.getInstance(project: "kubeip-prod", zone: "europe-west1-b", name: "edge-1")
        } throws: { ($0 as? KubeIPError)?.code == .authentication }
        #expect(failingHTTP.computeRequests.count == 2)
    }

    @Test func forbiddenNamesThePermissionToGrant() async throws {
        let (client, _) = scriptedCompute { _ in
            googleError(403, "Required 'compute.instances.addAccessConfig' permission for 'projects/kubeip-prod/zones/europe-west1-b/instances/edge-1'",
                        reason: "forbidden")
        }
        await #expect {
            try await client.addAccessConfig(project: "kubeip-prod", zone: "europe-west1-b", instance: "edge-1",
                                             config: .init(type: "ONE_TO_ONE_NAT", name: "External NAT"))
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .permissionDenied && error?.resource == "compute.instances.addAccessConfig"
                && error?.message.contains("grant the IAM permission compute.instances.addAccessConfig") == true
        }
        let (other, _) = scriptedCompute { _ in
            googleError(403, "Required 'compute.addresses.use' permission for 'projects/kubeip-prod/regions/europe-west1/addresses/a'")
        }
        await #expect {
            try await other.addAccessConfig(project: "kubeip-prod", zone: "europe-west1-b", instance: "edge-1",
                                            config: .init(type: "ONE_TO_ONE_NAT", name: "External NAT", natIP: "34.0.0.1"))
        } throws: { ($0 as? KubeIPError)?.resource == "compute.addresses.use" }
        let (scopes, _) = scriptedCompute { _ in
            googleError(403, "Request had insufficient authentication scopes.", reason: "insufficientPermissions")
        }
        await #expect {
            try await scopes.getInstance(project: "kubeip-prod", zone: "europe-west1-b", name: "edge-1")
        } throws: { ($0 as? KubeIPError)?.message.contains("access scope") == true }
    }

    @Test func notFoundNamesTheResource() async throws {
        let (client, _) = scriptedCompute { _ in googleError(404, "The resource 'projects/kubeip-prod/regions/europe-west1/addresses/gone' was not found", reason: "notFound") }
        await #expect {
            try await client.getAddress(project: "kubeip-prod", region: "europe-west1", name: "gone")
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .notFound && error?.resource == "projects/kubeip-prod/regions/europe-west1/addresses/gone"
        }
    }

    @Test func aBadFilterOrOrderIsAnInvalidSetting() async throws {
        let (client, _) = scriptedCompute { request in
            if request.query("orderBy") != nil {
                return googleError(400, "Invalid value for field 'orderBy': 'address'. Only 'name' and 'creationTimestamp desc' are supported.")
            }
            return googleError(400, "Invalid value for field 'filter': 'labels.env'. Invalid list filter expression.")
        }
        await #expect {
            try await client.listAddresses(project: "kubeip-prod", region: "europe-west1", filter: "(labels.env)", orderBy: nil)
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .invalidSetting && error?.setting == "filter" && error?.exitCode == 78
        }
        await #expect {
            try await client.listAddresses(project: "kubeip-prod", region: "europe-west1", filter: nil, orderBy: "address")
        } throws: { ($0 as? KubeIPError)?.setting == "order-by" }
    }

    @Test func aMutationCarriesOneRequestIdAndWaitsForItsOperation() async throws {
        let clock = ManualClock(autoAdvance: true)
        let answers = Queue([.failure(transportTimeout),
                             .success(json(200, #"{"kind":"compute#operation","name":"operation-1","status":"PENDING"}"#)),
                             .success(json(200, #"{"kind":"compute#operation","name":"operation-1","status":"RUNNING"}"#)),
                             .success(json(200, #"{"kind":"compute#operation","name":"operation-1","status":"DONE"}"#))])
        let (client, http) = scriptedCompute(clock: clock) { _ in try answers.next() }
        let operation = try await client.addAccessConfig(project: "kubeip-prod", zone: "europe-west1-b", instance: "edge-1",
                                                         config: .init(type: "ONE_TO_ONE_NAT", name: "External NAT",
                                                                       natIP: "34.0.0.1", networkTier: "PREMIUM"))
        #expect(operation.isDone)
        let requests = http.computeRequests
        #expect(requests.map(\.method) == ["POST", "POST", "POST", "POST"])
        #expect(requests[0].path == "\(base)/zones/europe-west1-b/instances/edge-1/addAccessConfig")
        #expect(requests[0].query("networkInterface") == "nic0")
        let requestID = try #require(requests[0].query("requestId"))
        #expect(UUID(uuidString: requestID) != nil)
        #expect(requests[1].query("requestId") == requestID)
        #expect(requests[0].bodyText == #"{"name":"External NAT","natIP":"34.0.0.1","networkTier":"PREMIUM","type":"ONE_TO_ONE_NAT"}"#)
        #expect(requests[0].header("Content-Type") == "application/json")
        #expect(requests[2].path == "\(base)/zones/europe-west1-b/operations/operation-1/wait")
        #expect(requests[2].body.isEmpty)
        #expect(requests[3].path == requests[2].path)
    }

    @Test func anAddressInUseIsAConflictAndOtherOperationErrorsSurface() async throws {
        let inUse = #"{"name":"operation-2","status":"DONE","httpErrorStatusCode":400,"error":{"errors":[{"code":"IP_IN_USE_BY_ANOTHER_RESOURCE","message":"IP '34.0.0.1' is already being used by another resource."}]}}"#
        let (client, _) = scriptedCompute { _ in json(200, inUse) }
        await #expect {
            try await client.addAccessConfig(project: "kubeip-prod", zone: "europe-west1-b", instance: "edge-1",
                                             config: .init(type: "ONE_TO_ONE_NAT", name: "External NAT", natIP: "34.0.0.1"))
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .conflict && error?.resource == "34.0.0.1"
        }
        let other = #"{"name":"operation-3","status":"DONE","httpErrorStatusCode":400,"error":{"errors":[{"code":"QUOTA_EXCEEDED","message":"Quota 'EXTERNAL_ADDRESSES' exceeded."}]}}"#
        let (failing, _) = scriptedCompute { _ in json(200, other) }
        await #expect {
            try await failing.deleteAccessConfig(project: "kubeip-prod", zone: "europe-west1-b", instance: "edge-1",
                                                 accessConfig: "External NAT")
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .cloudAPI && error?.message.contains("QUOTA_EXCEEDED: Quota 'EXTERNAL_ADDRESSES' exceeded.") == true
                && error?.message.contains("operation-3") == true
        }
        // A resource quota comes back as a 403 operation: no grant helps, so it is not a permission error.
        let quota = #"{"name":"operation-5","status":"DONE","httpErrorStatusCode":403,"error":{"errors":[{"code":"QUOTA_EXCEEDED","message":"Quota 'IN_USE_ADDRESSES' exceeded."}]}}"#
        let (overQuota, _) = scriptedCompute { _ in json(200, quota) }
        await #expect {
            try await overQuota.addAccessConfig(project: "kubeip-prod", zone: "europe-west1-b", instance: "edge-1",
                                                config: .init(type: "ONE_TO_ONE_NAT", name: "External NAT"))
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .cloudAPI && error?.message.contains("exceeded a quota of project kubeip-prod") == true
        }
    }

    @Test func anOperationThatNeverFinishesGivesUpAfterThreeMinutesOnTheClock() async throws {
        let clock = ManualClock(autoAdvance: true)
        let (client, http) = scriptedCompute(clock: clock) { _ in json(200, #"{"name":"operation-4","status":"RUNNING"}"#) }
        await #expect {
            try await client.deleteAccessConfig(project: "kubeip-prod", zone: "europe-west1-b", instance: "edge-1",
                                                accessConfig: "External NAT")
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .unavailable && error?.message.contains("operation-4 was still RUNNING after 3m") == true
        }
        #expect(clock.elapsed >= .seconds(180))
        #expect(clock.elapsed < .seconds(200))
        #expect(http.computeRequests.count > 100)
    }

    @Test func aStaleFingerprintIsTold() async throws {
        let (client, _) = scriptedCompute { _ in googleError(412, "Supplied fingerprint does not match current network interface fingerprint.", reason: "conditionNotMet") }
        await #expect(throws: GCPStaleFingerprint.self) {
            try await client.updateNetworkInterface(project: "kubeip-prod", zone: "europe-west1-b", instance: "edge-1",
                                                    body: .init(fingerprint: "abc=", ipv6AccessConfigs: []))
        }
    }
}
