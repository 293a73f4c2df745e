import Foundation
import KubeIPHTTP
import Testing

/// Keep-alive: sequential requests of one client share one TCP connection (the server sees
/// one client port), a closed connection is replaced, and copies of a client share its pool.
@Suite struct CurlConnectionReuseTests {
    let server = LocalHTTPServer.shared

    private func peerPort(_ client: CurlHTTPClient, _ path: String = "/peer") async throws -> Int {
        let response = try await client.send(HTTPRequest(url: server.base + path))
        #expect(response.status == 200)
        return try #require(Int(response.text))
    }

    @Test func sequentialRequestsUseOneConnection() async throws {
        let client = CurlHTTPClient()
        var ports: Set<Int> = []
        for _ in 0..<6 { ports.insert(try await peerPort(client)) }
        #expect(ports.count == 1, "six sequential requests opened \(ports.count) TCP connections")
    }

    @Test func requestsWithBodiesAndOtherMethodsReuseTheConnection() async throws {
        let client = CurlHTTPClient()
        let first = try await peerPort(client)
        for method in ["PUT", "PATCH", "POST", "DELETE"] {
            let response = try await client.send(HTTPRequest(method: method, url: server.base + "/echo",
                                                             headers: [HTTPHeader("Content-Type", "application/json")],
                                                             body: Array("{}".utf8)))
            #expect(response.status == 200)
        }
        #expect(try await peerPort(client) == first)
    }

    @Test func copiesOfAClientShareItsConnections() async throws {
        let client = CurlHTTPClient()
        let copy = client
        #expect(try await peerPort(client) == (try await peerPort(copy)))
    }

    @Test func separateClientsUseSeparateConnections() async throws {
        #expect(try await peerPort(CurlHTTPClient()) != (try await peerPort(CurlHTTPClient())))
    }

    @Test func aConnectionTheServerClosedIsReplaced() async throws {
        let client = CurlHTTPClient()
        let before = try await peerPort(client)
        #expect(try await client.send(HTTPRequest(url: server.base + "/close")).status == 200)
        let after = try await peerPort(client)
        #expect(after != before)
        #expect(try await peerPort(client) == after)
    }

    @Test func aFailedTransferDoesNotPoisonThePool() async throws {
        let client = CurlHTTPClient(maxResponseBytes: 100)
        _ = try await peerPort(client)
        await #expect(throws: HTTPTransportError.self) {
            _ = try await client.send(HTTPRequest(url: server.base + "/bytes/5000"))
        }
        let a = try await peerPort(client)
        #expect(try await peerPort(client) == a)
    }

    @Test func concurrentRequestsThenSequentialReuse() async throws {
        let client = CurlHTTPClient(maxIdleConnections: 2)
        let ports = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await peerPort(client) } }
            var all: [Int] = []
            for try await port in group { all.append(port) }
            return all
        }
        #expect(ports.count == 8)
        // Afterwards at most two connections stay open for reuse.
        var later: Set<Int> = []
        for _ in 0..<4 { later.insert(try await peerPort(client)) }
        #expect(later.count == 1)
    }
}
