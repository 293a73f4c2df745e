import KubeIPCore
import KubeIPHTTP
import KubeIPHTTPServer
import KubeIPSimulator
import Testing
@testable import KubeIPCLI

@Suite struct HealthListenerTests {
    private func get(_ path: String, method: String = "GET", from listener: HealthListener) async throws -> HTTPResponse {
        let address = try #require(listener.server.localAddress)
        return try await CurlHTTPClient().send(HTTPRequest(method: method, url: "http://\(address)\(path)", timeout: .seconds(5)))
    }

    @Test func readyzFollowsTheHoldingAndHealthzTheDeadline() async throws {
        let clock = ManualClock()
        let health = DaemonHealth(clock: clock, stepBudget: .seconds(300))
        let listener = try HealthListener.start(address: "127.0.0.1:0", health: health, logger: .init(label: "test"))
        #expect(try await get("/healthz", from: listener).status == 200)
        let notReady = try await get("/readyz", from: listener)
        #expect(notReady.status == 503 && notReady.text == "not ready: starting\n")
        health.enter(.holding)
        health.setReady(true)
        let ready = try await get("/readyz", from: listener)
        #expect(ready.status == 200 && ready.text == "ready: holding\n")
        // A step past its budget: the liveness probe fails.
        clock.advance(by: .seconds(301))
        let stalled = try await get("/healthz", from: listener)
        #expect(stalled.status == 503 && stalled.text.hasPrefix("stalled"))
        #expect(try await get("/nope", from: listener).status == 404)
        let post = try await get("/healthz", method: "POST", from: listener)
        #expect(post.status == 405 && post.header("Allow") == "GET, HEAD")
        let head = try await get("/readyz", method: "HEAD", from: listener)
        #expect(head.status == 200 && head.body.isEmpty)
        await listener.stop()
    }

    @Test func anAddressInUseOrMalformedIsASettingError() async throws {
        let health = DaemonHealth()
        let first = try HealthListener.start(address: "127.0.0.1:0", health: health, logger: .init(label: "test"))
        let port = try #require(first.server.localAddress?.port)
        let busy = try #require(throws: KubeIPError.self) {
            try HealthListener.start(address: "127.0.0.1:\(port)", health: health, logger: .init(label: "test"))
        }
        #expect(busy.setting == "metrics-address" && busy.message.contains("127.0.0.1:\(port)"))
        await first.stop()
        let malformed = try #require(throws: KubeIPError.self) {
            try HealthListener.start(address: "localhost", health: health, logger: .init(label: "test"))
        }
        #expect(malformed.setting == "metrics-address")
    }
}
