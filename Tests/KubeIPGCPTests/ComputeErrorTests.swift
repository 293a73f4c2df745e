import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPTestSupport
import Testing
@testable import KubeIPGCP

/// 403 answers by reason, through the double (which answers every 403 with reason
/// `forbidden`: the others are answered in its stead, once or twice, before it serves the call).
@Suite struct ComputeErrorTests {
    static func world() async -> GCEWorld {
        let world = GCEWorld()
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1", labels: ["kubeip": "reserved"])
        await world.double.createInstance(name: "vm-1")
        return world
    }

    /// Answers the first `count` addresses.list requests with `response`.
    static func refuseList(_ count: Int, with response: HTTPResponse, log: Answered) -> Interposer.Answer {
        { request, _ in
            guard request.url.contains("/addresses?") || request.url.hasSuffix("/addresses"),
                  log.requests.count < count else { return nil }
            log.record(request)
            return response
        }
    }

    static func forbidden(_ message: String, reason: String, details: String = "") -> HTTPResponse {
        json(403, #"""
        {"error": {"code": 403, "message": "\#(message)", "errors": [{"message": "\#(message)", "domain": "global", "reason": "\#(reason)"}], "status": "PERMISSION_DENIED"\#(details)}}
        """#)
    }

    @Test(arguments: ["quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"])
    func aRequestQuotaOrRateLimitIsThrottledAndRetried(reason: String) async throws {
        let world = await Self.world()
        let log = Answered()
        let refusal = Self.forbidden("Quota exceeded for quota metric 'Read requests' of service 'compute.googleapis.com'.",
                                     reason: reason)
        let engine = try world.engine("vm-1", answer: Self.refuseList(2, with: refusal, log: log))
        let held = try await engine.acquire()
        #expect(held.first?.address.id == "edge-a")
        #expect(log.requests.count == 2)
        // The client's own backoff (200 ms, then 400 ms; equal jitter at 0.5) on the clock.
        #expect(Array(world.clock.sleeps.prefix(2)) == [.milliseconds(150), .milliseconds(300)])
    }

    @Test func aDisabledAPIIsACloudErrorNamingTheProject() async throws {
        let legacy = Self.forbidden("Compute Engine API has not been used in project 271828182845 before or it is disabled.",
                                    reason: "accessNotConfigured")
        let modern = Self.forbidden("Compute Engine API has not been used in project 271828182845 before or it is disabled.",
                                    reason: "forbidden", details: #"""
            , "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", "domain": "googleapis.com", "metadata": {"service": "compute.googleapis.com", "consumer": "projects/271828182845"}}, {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Google developers console API activation", "url": "https://console.developers.google.com/"}]}]
            """#)
        for refusal in [legacy, modern] {
            let world = await Self.world()
            let log = Answered()
            await #expect {
                try await world.engine("vm-1", answer: Self.refuseList(1, with: refusal, log: log)).acquire()
            } throws: { error in
                let error = error as? KubeIPError
                return error?.code == .cloudAPI && error?.resource == "projects/kubeip-sim"
                    && error?.message.hasPrefix("the Compute Engine API is not enabled in project kubeip-sim") == true
            }
            #expect(log.requests.count == 1)
            #expect(await world.computeCalls().isEmpty)
        }
    }

    @Test func disabledBillingIsACloudError() async throws {
        let world = await Self.world()
        let refusal = Self.forbidden("This API method requires billing to be enabled. Please enable billing on project #271828182845.",
                                     reason: "billingNotEnabled")
        await #expect {
            try await world.engine("vm-1", answer: Self.refuseList(1, with: refusal, log: Answered())).acquire()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .cloudAPI && error?.message.hasPrefix("billing is not enabled for project kubeip-sim") == true
        }
    }

    @Test func onlyAnIAMRefusalIsPermissionDenied() async throws {
        let world = await Self.world()
        await world.double.deny(permission: "compute.instances.get")
        await #expect {
            try await world.engine("vm-1").acquire()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .permissionDenied && error?.resource == "compute.instances.get" && error?.exitCode == 77
                && error?.message.contains("grant the IAM permission compute.instances.get") == true
        }
        // Nothing was removed: the refusal came before the delete.
        #expect(await world.double.accessConfigs(of: "vm-1").first?.isEphemeral == true)

        let other = await Self.world()
        let refusal = Self.forbidden("The caller's organization policy forbids this.", reason: "orgPolicyViolation")
        await #expect {
            try await other.engine("vm-1", answer: Self.refuseList(1, with: refusal, log: Answered())).acquire()
        } throws: { error in
            let error = error as? KubeIPError
            return error?.code == .cloudAPI && error?.message.contains("refused compute.addresses.list") == true
        }
    }
}

/// Reasons travel as typed data: the provider's own code, never read back out of a message.
@Suite struct ComputeErrorCodeTests {
    @Test func answersCarryTheirFirstReasonAndOperationsTheirCode() throws {
        let body = try JSONDecoder().decode(Compute.ErrorEnvelope.self, from: Data(#"""
        {"error": {"code": 403, "message": "m", "errors": [{"message": "m", "domain": "global", "reason": "rateLimitExceeded"}]}}
        """#.utf8)).error
        let call = ComputeError.Call(permission: "compute.addresses.list", resource: "projects/p/regions/r")
        let mapped = ComputeError.map(status: 403, body: body, call: call)
        #expect(mapped.code == .throttled && mapped.providerCode == "rateLimitExceeded")
        let operation = try JSONDecoder().decode(Compute.Operation.self, from: Data(#"""
        {"name": "op-1", "status": "DONE", "error": {"errors": [{"code": "IP_IN_USE_BY_ANOTHER_RESOURCE", "message": "IP '35.200.0.1' is already being used by another resource."}]}}
        """#.utf8))
        let failure = try #require(ComputeError.failure(of: operation, call: call, address: "edge-a") as? KubeIPError)
        #expect(failure.code == .conflict && failure.providerCode == "IP_IN_USE_BY_ANOTHER_RESOURCE")
        // The message alone decides nothing.
        let wordy = try JSONDecoder().decode(Compute.Operation.self, from: Data(#"""
        {"name": "op-2", "status": "DONE", "error": {"errors": [{"code": "RESOURCE_NOT_READY", "message": "it is already being used"}]}}
        """#.utf8))
        let other = try #require(ComputeError.failure(of: wordy, call: call, address: "edge-a") as? KubeIPError)
        #expect(other.code != .conflict && other.providerCode == "RESOURCE_NOT_READY")
    }
}
