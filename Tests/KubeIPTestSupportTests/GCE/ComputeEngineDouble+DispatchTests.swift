import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
import KubeIPSimulator
@testable import KubeIPTestSupport

/// Reachability, injected faults and the connectivity gap.
@Suite struct ComputeEngineDoubleDispatchTests {
    func transportError(_ body: () async throws -> Any) async -> HTTPTransportError? {
        do {
            _ = try await body()
            return nil
        } catch let error as HTTPTransportError {
            return error
        } catch {
            return nil
        }
    }

    @Test func afterTheIPv4ConfigIsDeletedTheNextRequestsTimeOut() async throws {
        let world = await GCEWorld(configuration: .init(connectivityGap: .requests(2)))
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        let (_, delete) = try await world.deleteAccessConfig()
        let name = try #require(delete["name"]?.stringValue)
        // The operation completes on the next request; that request is already cut off.
        let first = await transportError { try await world.operation(name) }
        #expect(first?.isTimeout == true)
        // The metadata server is link-local: it keeps answering.
        #expect(try await world.metadata("instance/name").status == 200)
        let second = await transportError { try await world.addAccessConfig(natIP: "34.76.1.10") }
        #expect(second?.isTimeout == true)
        #expect(await world.double.address("a")?.status == "RESERVED")
        // The gap is over.
        #expect(try await world.operation(name)["status"] == "DONE")
        let (status, add) = try await world.addAccessConfig(natIP: "34.76.1.10")
        #expect(status == 200)
        #expect(try await world.operation(try #require(add["name"]?.stringValue))["error"] == nil)
        let recorded = await world.double.requests.filter { $0.service == .compute }
        #expect(recorded.map(\.status) == [200, nil, nil, 200, 200, 200])
    }

    @Test func aTimedGapEndsOnTheClock() async throws {
        let world = await GCEWorld(configuration: .init(connectivityGap: .duration(.seconds(20))))
        let (_, delete) = try await world.deleteAccessConfig()
        let name = try #require(delete["name"]?.stringValue)
        #expect(await transportError { try await world.operation(name) } != nil)
        world.clock.advance(by: .seconds(19))
        #expect(await transportError { try await world.operation(name) } != nil)
        world.clock.advance(by: .seconds(1))
        #expect(try await world.operation(name)["status"] == "DONE")
    }

    @Test func aGapHitsOnlyTheVMThatLostItsAddress() async throws {
        let world = await GCEWorld(configuration: .init(connectivityGap: .requests(5)))
        await world.double.createInstance(name: "vm-2")
        let other = world.double.client(for: "vm-2")
        let (_, delete) = try await world.deleteAccessConfig()
        await world.double.settle()
        #expect(await transportError { try await world.operation(try #require(delete["name"]?.stringValue)) } != nil)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-2", client: other).status == 200)
    }

    @Test func injectedFailuresAnswerTheirStatusAndRetryAfterThenStop() async throws {
        let world = await GCEWorld()
        await world.double.injectFailure(status: 503, retryAfter: 7, count: 2, matching: "/addresses")
        await world.double.injectFailure(status: 429, count: 1, matching: "/instances/")
        for _ in 0..<2 {
            let (status, json, response) = try await world.compute("GET", "regions/europe-west1/addresses")
            #expect(status == 503)
            #expect(response.header("Retry-After") == "7")
            #expect(json["error"]?["status"] == "UNAVAILABLE")
        }
        #expect(try await world.compute("GET", "regions/europe-west1/addresses").status == 200)
        let throttled = try await world.compute("GET", "zones/europe-west1-b/instances/vm-1")
        #expect(throttled.status == 429)
        #expect(throttled.json["error"]?["status"] == "RESOURCE_EXHAUSTED")
        #expect(throttled.response.header("Retry-After") == nil)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").status == 200)
    }

    @Test func anUnmatchedFailureSparesTheMetadataServer() async throws {
        let world = await GCEWorld()
        await world.double.injectFailure(status: 500)
        #expect(try await world.metadata("instance/id").status == 200)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").status == 500)
        await world.double.injectFailure(status: 503, matching: "computeMetadata")
        let metadata = try await world.metadata("instance/id")
        #expect(metadata.status == 503)
        #expect(metadata.header("Metadata-Flavor") == "Google")
    }

    @Test func injectedTransportFailuresThrow() async throws {
        let world = await GCEWorld()
        await world.double.injectTransportFailure(count: 1, isTimeout: false, matching: "oauth2")
        await world.double.injectTransportFailure(count: 1)
        let error = await transportError { try await world.compute("GET", "zones/europe-west1-b/instances/vm-1") }
        #expect(error?.isTimeout == true)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").status == 200)
    }

    @Test func unknownHostsAndTheOffCloudMetadataServerAreUnreachable() async throws {
        let world = await GCEWorld()
        let unknown = await transportError {
            try await world.vm.send(HTTPRequest(url: "https://example.com/compute/v1/projects/x"))
        }
        #expect(unknown?.isTimeout == false)
        let laptop = world.double.offCloudClient()
        let metadata = await transportError { try await world.metadata("instance/id", client: laptop) }
        #expect(metadata?.isTimeout == true)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1", client: laptop).status == 200)
    }

    @Test func aDeletedVMReachesNothing() async throws {
        let world = await GCEWorld()
        await world.double.deleteInstance("vm-1")
        #expect(await transportError { try await world.metadata("instance/id") } != nil)
    }

    @Test func aConfiguredBaseURLAndMetadataHostAreServed() async throws {
        let clock = ManualClock()
        let double = ComputeEngineDouble(
            configuration: .init(metadataHost: "127.0.0.1:1", computeBaseURL: "http://127.0.0.1:2/compute/v1/"), clock: clock)
        await double.createInstance(name: "vm-1")
        let client = double.client(for: "vm-1")
        let tokenResponse = try await client.send(HTTPRequest(
            url: "http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/token",
            headers: [HTTPHeader("Metadata-Flavor", "Google")]))
        let token = try #require(try JSONValue(parsing: tokenResponse.body)["access_token"]?.stringValue)
        let instance = try await client.send(HTTPRequest(
            url: "http://127.0.0.1:2/compute/v1/projects/kubeip-sim/zones/europe-west1-b/instances/vm-1",
            headers: [HTTPHeader("Authorization", "Bearer \(token)")]))
        #expect(instance.status == 200)
        #expect(await transportError {
            try await client.send(HTTPRequest(url: "https://compute.googleapis.com/compute/v1/projects/kubeip-sim/zones/europe-west1-b/instances/vm-1"))
        } != nil)
    }

    @Test func latencyIsSpentOnTheClock() async throws {
        let clock = ManualClock(autoAdvance: true)
        let double = ComputeEngineDouble(configuration: .init(latency: .milliseconds(250)), clock: clock)
        await double.createInstance(name: "vm-1")
        _ = try await double.client(for: "vm-1").send(HTTPRequest(
            url: "http://metadata.google.internal/computeMetadata/v1/instance/id", headers: [HTTPHeader("Metadata-Flavor", "Google")]))
        #expect(clock.elapsed == .milliseconds(250))
    }
}
