import Glibc
import KubeIPHTTP
import Synchronization
import Testing
@testable import KubeIPHTTPServer

/// Echoes the request: `METHOD path?query body` (and `X-Header-Count`).
let echo: HTTPServer.Handler = { request in
    var response = HTTPServerResponse.text("\(request.method) \(request.path)?\(request.rawQuery) \(String(decoding: request.body, as: UTF8.self))")
    response.headers.append(HTTPHeader("X-Header-Count", String(request.headers.count)))
    response.headers.append(HTTPHeader("X-Remote-Known", request.remoteAddress.isEmpty ? "no" : "yes"))
    return response
}

/// A started server on 127.0.0.1 with short bounds; stopped by the caller.
func startServer(_ change: (inout HTTPServer.Configuration) -> Void = { _ in },
                 handler: @escaping HTTPServer.Handler = echo) throws -> (HTTPServer, Int) {
    var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, requestTimeout: .seconds(5),
                                                 idleTimeout: .seconds(5), shutdownGracePeriod: .seconds(5))
    change(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler)
    let address = try server.start()
    return (server, address.port)
}

/// A one-shot latch: handlers wait on it, tests open it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, entered: Int, waiters: [CheckedContinuation<Void, Never>])>((false, 0, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resume = state.withLock { s -> Bool in
                s.entered += 1
                if s.open { return true }
                s.waiters.append(continuation)
                return false
            }
            if resume { continuation.resume() }
        }
    }

    var entered: Int { state.withLock { $0.entered } }

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits (polling) until `count` handlers are waiting; false after about 10 s.
    func waitForEntered(_ count: Int = 1) async -> Bool {
        for _ in 0..<1000 {
            if entered >= count { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

@Suite("HTTPServer")
struct HTTPServerTests {
    @Test("serves a request through the in-tree curl client")
    func servesRequests() async throws {
        let (server, port) = try startServer()
        defer { server.requestStop() }
        let client = CurlHTTPClient()
        let response = try await client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/a/b?x=1&y=two",
                                                         headers: [HTTPHeader("Content-Type", "text/plain")],
                                                         body: Array("hello".utf8)))
        #expect(response.status == 200)
        #expect(response.text == "POST /a/b?x=1&y=two hello")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("X-Remote-Known") == "yes")
        await server.stop()
        #expect(server.localAddress == nil)
    }

    @Test("a large body sent with Expect: 100-continue (as curl does) arrives whole")
    func expectContinue() async throws {
        let (server, port) = try startServer { $0.maxBodyBytes = 4 << 20 }
        defer { server.requestStop() }
        let body = [UInt8](repeating: UInt8(ascii: "z"), count: 2 << 20)
        let response = try await CurlHTTPClient().send(HTTPRequest(
            method: "PUT", url: "http://127.0.0.1:\(port)/big", headers: [HTTPHeader("Expect", "100-continue")], body: body))
        #expect(response.status == 200)
        #expect(response.body.count == "PUT /big? ".utf8.count + body.count)
        await server.stop()
    }

    @Test("keep-alive: several requests on one connection, and pipelined ones, in order")
    func keepAlive() async throws {
        let (server, port) = try startServer()
        defer { server.requestStop() }
        let results = await onThread { () -> [String] in
            guard let connection = RawConnection(port: port) else { return ["no connection"] }
            var bodies: [String] = []
            for index in 1...3 {
                connection.send(rawRequest("GET", "/n/\(index)"))
                guard let response = connection.readResponse() else { return bodies + ["no response"] }
                bodies.append(response.body + (response.header("connection") == nil ? "" : " (close)"))
            }
            connection.send(rawRequest("GET", "/p/1") + rawRequest("POST", "/p/2", body: "two"))
            bodies.append(connection.readResponse()?.body ?? "no response")
            bodies.append(connection.readResponse()?.body ?? "no response")
            return bodies
        }
        #expect(results == ["GET /n/1? ", "GET /n/2? ", "GET /n/3? ", "GET /p/1? ", "POST /p/2? two"])
        await server.stop()
    }

    @Test("Connection: close and HTTP/1.0 are answered with Connection: close, then the connection ends")
    func connectionClose() async throws {
        let (server, port) = try startServer()
        defer { server.requestStop() }
        let outcome = await onThread { () -> [String] in
            var seen: [String] = []
            for request in [rawRequest("GET", "/c", headers: ["Connection: close"]), "GET /old HTTP/1.0\r\n\r\n"] {
                guard let connection = RawConnection(port: port) else { return ["no connection"] }
                connection.send(request)
                let response = connection.readResponse()
                seen.append("\(response?.status ?? 0) \(response?.header("connection") ?? "-") \(connection.isClosedByPeer())")
            }
            return seen
        }
        #expect(outcome == ["200 close true", "200 close true"])
        await server.stop()
    }

    @Test("garbage, bad framing and unsupported codings are refused with the right status, then closed",
          arguments: [
              ("\u{1}\u{2}garbage\r\n\r\n", 400),
              ("GET /x HTTP/1.1\r\n\r\n", 400),                                        // no Host
              ("GET /x HTTP/2.0\r\nHost: a\r\n\r\n", 505),
              ("GET /x HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", 400),
              ("GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
              ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
              ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
              ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
              ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
              ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
          ])
    func refusesGarbage(input: String, status: Int) async throws {
        let (server, port) = try startServer()
        defer { server.requestStop() }
        let outcome = await onThread { () -> (Int, Bool) in
            guard let connection = RawConnection(port: port) else { return (0, false) }
            connection.send(input)
            let response = connection.readResponse()
            return (response?.status ?? 0, connection.isClosedByPeer())
        }
        #expect(outcome.0 == status)
        #expect(outcome.1)
        await server.stop()
    }

    @Test("limits: request line 414, header size and count 431, body 413 (from Content-Length or chunks)")
    func limits() async throws {
        let (server, port) = try startServer {
            $0.maxRequestLineBytes = 100
            $0.maxHeaderBytes = 300
            $0.maxHeaderCount = 5
            $0.maxBodyBytes = 10
        }
        defer { server.requestStop() }
        let cases: [(String, Int)] = [
            ("GET /" + String(repeating: "a", count: 200) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414),
            ("GET /" + String(repeating: "a", count: 200), 414),
            (rawRequest("GET", "/", headers: ["X-Big: " + String(repeating: "b", count: 400)]), 431),
            (rawRequest("GET", "/", headers: (1...6).map { "X-\($0): v" }), 431),
            (rawRequest("POST", "/", body: String(repeating: "c", count: 11)), 413),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", 413),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n", 413),
            (rawRequest("POST", "/", body: String(repeating: "c", count: 10)), 200),
        ]
        for (input, status) in cases {
            let got = await onThread { () -> Int in
                guard let connection = RawConnection(port: port) else { return 0 }
                connection.send(input)
                return connection.readResponse()?.status ?? 0
            }
            #expect(got == status, "\(input.prefix(60))")
        }
        await server.stop()
    }

    @Test("a chunked request body is decoded (extensions and trailers ignored)")
    func chunked() async throws {
        let (server, port) = try startServer()
        defer { server.requestStop() }
        let body = await onThread { () -> String in
            guard let connection = RawConnection(port: port) else { return "no connection" }
            connection.send("POST /ch HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            connection.send("5;ext=1\r\nhello\r\n")
            connection.send("6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
            return connection.readResponse()?.body ?? "no response"
        }
        #expect(body == "POST /ch? hello world")
        await server.stop()
    }

    @Test("HEAD answers carry the length but no body")
    func head() async throws {
        let (server, port) = try startServer()
        defer { server.requestStop() }
        let outcome = await onThread { () -> (String?, String?) in
            guard let connection = RawConnection(port: port) else { return (nil, nil) }
            connection.send(rawRequest("HEAD", "/h"))
            let first = connection.readResponse(toHead: true)
            connection.send(rawRequest("GET", "/after"))
            // Had the HEAD answer carried a body, this would read it as the next status line.
            let second = connection.readResponse()
            return (first?.header("content-length"), second?.body)
        }
        #expect(outcome.0 == String("HEAD /h? ".utf8.count))
        #expect(outcome.1 == "GET /after? ")
        await server.stop()
    }

    @Test("a slow client is answered 408 and dropped; an idle keep-alive connection is closed")
    func timeouts() async throws {
        let (server, port) = try startServer {
            $0.requestTimeout = .milliseconds(200)
            $0.idleTimeout = .milliseconds(200)
        }
        defer { server.requestStop() }
        let slow = await onThread { () -> (Int, Bool) in
            guard let connection = RawConnection(port: port) else { return (0, false) }
            connection.send("GET /slow HTTP/1.1\r\nHost: a\r\n")   // never finishes its head
            let response = connection.readResponse()
            return (response?.status ?? 0, connection.isClosedByPeer())
        }
        #expect(slow.0 == 408)
        #expect(slow.1)
        let idle = await onThread { () -> (Int, Bool) in
            guard let connection = RawConnection(port: port) else { return (0, false) }
            connection.send(rawRequest("GET", "/once"))
            let response = connection.readResponse()
            return (response?.status ?? 0, connection.isClosedByPeer())
        }
        #expect(idle.0 == 200)
        #expect(idle.1)
        await server.stop()
    }

    @Test("connections beyond the limit are answered 503 and closed at once; the others keep working")
    func connectionLimit() async throws {
        let (server, port) = try startServer { $0.maxConnections = 2 }
        defer { server.requestStop() }
        let outcome = await onThread { () -> [String] in
            guard let first = RawConnection(port: port), let second = RawConnection(port: port) else { return ["no connection"] }
            // Both are registered once each has been answered.
            first.send(rawRequest("GET", "/1"))
            second.send(rawRequest("GET", "/2"))
            var seen = [String(first.readResponse()?.status ?? 0), String(second.readResponse()?.status ?? 0)]
            for _ in 0..<3 {
                guard let extra = RawConnection(port: port) else { seen.append("refused"); continue }
                let response = extra.readResponse()
                seen.append("\(response?.status ?? 0) \(extra.isClosedByPeer())")
            }
            first.send(rawRequest("GET", "/1again"))
            seen.append(first.readResponse()?.body ?? "none")
            return seen
        }
        #expect(outcome == ["200", "200", "503 true", "503 true", "503 true", "GET /1again? "])
        await server.stop()
    }

    @Test("stop: no new connections, the request in flight is answered (Connection: close), then run() returns")
    func stopWhileInFlight() async throws {
        let gate = Gate()
        let (server, port) = try startServer(handler: { request in
            if request.path == "/wait" { await gate.wait() }
            return .text("done \(request.path)")
        })
        let running = Task { try await server.run() }
        let reply = Task { await onThread { () -> String in
            guard let connection = RawConnection(port: port) else { return "no connection" }
            connection.send(rawRequest("GET", "/wait"))
            guard let response = connection.readResponse() else { return "no response" }
            return "\(response.body) \(response.header("connection") ?? "-") \(connection.isClosedByPeer())"
        } }
        #expect(await gate.waitForEntered())
        let idle = await onThread { RawConnection(port: port) }
        let stopping = Task { await server.stop() }
        // The idle connection is closed and the listener with it.
        #expect(await onThread { idle?.isClosedByPeer() ?? false })
        #expect(await onThread { RawConnection(port: port) == nil })
        gate.open()
        #expect(await reply.value == "done /wait close true")
        await stopping.value
        try await running.value
        #expect(server.localAddress == nil)
    }

    @Test("stop: a handler still running after the grace period is cancelled and its connection closed")
    func stopCancelsStuckHandler() async throws {
        let cancelled = Mutex(false)
        let gate = Gate()
        let (server, port) = try startServer({ $0.shutdownGracePeriod = .milliseconds(100) }, handler: { _ in
            Task { await gate.wait() }
            do { try await Task.sleep(for: .seconds(3600)) } catch { cancelled.withLock { $0 = true } }
            return .text("late")
        })
        let reply = Task { await onThread { () -> Bool in
            guard let connection = RawConnection(port: port) else { return false }
            connection.send(rawRequest("GET", "/stuck"))
            return connection.readResponse() == nil
        } }
        #expect(await gate.waitForEntered())
        await server.stop()
        #expect(await reply.value)
        for _ in 0..<500 where !cancelled.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(cancelled.withLock { $0 })
    }

    @Test("run() ends when its task is cancelled")
    func runEndsOnCancel() async throws {
        let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0), handler: echo)
        let running = Task { try await server.run() }
        for _ in 0..<1000 where server.localAddress == nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(server.localAddress != nil)
        running.cancel()
        try await running.value
        #expect(server.localAddress == nil)
    }

    @Test("IPv6 loopback, and the bound port is reported")
    func ipv6() async throws {
        let server = HTTPServer(configuration: .init(address: "[::1]:0")!, handler: echo)
        let address = try server.start()
        defer { server.requestStop() }
        #expect(address.host == "::1")
        #expect(address.port > 0)
        #expect(address.description == "[::1]:\(address.port)")
        let body = await onThread { () -> String in
            guard let connection = RawConnection(host: "::1", port: address.port) else { return "no connection" }
            connection.send(rawRequest("GET", "/six"))
            return connection.readResponse()?.body ?? "no response"
        }
        #expect(body == "GET /six? ")
        await server.stop()
    }

    @Test("refuses to start on an address in use or a bad host, naming the address")
    func startErrors() async throws {
        let (server, port) = try startServer()
        defer { server.requestStop() }
        let second = HTTPServer(configuration: .init(host: "127.0.0.1", port: port), handler: echo)
        #expect {
            try second.start()
        } throws: { error in
            "\(error)" == "cannot listen on 127.0.0.1:\(port): Address already in use"
        }
        let bad = HTTPServer(configuration: .init(host: "no such host.invalid", port: 80), handler: echo)
        #expect {
            try bad.start()
        } throws: { error in
            "\(error)".hasPrefix("cannot listen on no such host.invalid:80: ")
        }
        #expect(throws: HTTPServerError.self) { try server.start() }
        await server.stop()
    }

    @Test("addresses parse as host:port", arguments: [
        ("127.0.0.1:9090", "127.0.0.1", 9090), ("[::1]:0", "::1", 0), (":8080", "", 8080), ("localhost:1", "localhost", 1),
    ])
    func addressParsing(text: String, host: String, port: Int) {
        let configuration = HTTPServer.Configuration(address: text)
        #expect(configuration?.host == host)
        #expect(configuration?.port == port)
    }

    @Test("malformed addresses do not parse", arguments: ["9090", "::1:80", "[::1]", "host:", "host:99999", "host:x"])
    func badAddresses(text: String) {
        #expect(HTTPServer.Configuration(address: text) == nil)
    }
}
