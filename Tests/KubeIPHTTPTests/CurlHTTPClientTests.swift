import Foundation
import KubeIPHTTP
import Testing

@Suite struct CurlHTTPClientTests {
    let server = LocalHTTPServer.shared
    let client = CurlHTTPClient()

    private func echo(_ request: HTTPRequest) async throws -> (HTTPResponse, EchoedRequest) {
        let response = try await client.send(request)
        #expect(response.status == 200)
        return (response, try JSONDecoder().decode(EchoedRequest.self, from: Data(response.body)))
    }

    @Test(arguments: ["GET", "DELETE"])
    func methodsWithoutBody(method: String) async throws {
        let (response, seen) = try await echo(HTTPRequest(method: method, url: server.base + "/echo/a?x=1&y=two"))
        #expect(seen.method == method)
        #expect(seen.path == "/echo/a?x=1&y=two")
        #expect(seen.body.isEmpty)
        #expect(seen.header("Content-Type") == nil)
        #expect(seen.header("Expect") == nil)
        #expect(response.header("x-echo-method") == method)
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE"])
    func methodsWithBody(method: String) async throws {
        let body: [UInt8] = Array("Action=DescribeAddresses&Version=2016-11-15".utf8) + [0, 1, 255]
        let (_, seen) = try await echo(HTTPRequest(
            method: method, url: server.base + "/echo",
            headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: body))
        #expect(seen.method == method)
        #expect(seen.bodyBytes == body)
        #expect(seen.header("Content-Length") == String(body.count))
        #expect(seen.header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(seen.header("Expect") == nil)
    }

    @Test(arguments: ["PUT", "POST"])
    func emptyBodyStillSendsContentLength(method: String) async throws {
        // IMDSv2's token call is a PUT without a body.
        let (_, seen) = try await echo(HTTPRequest(
            method: method, url: server.base + "/echo/token",
            headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600")]))
        #expect(seen.method == method)
        #expect(seen.header("Content-Length") == "0")
        #expect(seen.header("Content-Type") == nil)
        #expect(seen.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600")
    }

    @Test func largeBodyIsSentWithoutExpectContinue() async throws {
        let body = [UInt8](repeating: 0x61, count: 200_000)
        let (_, seen) = try await echo(HTTPRequest(method: "PUT", url: server.base + "/echo/large", body: body))
        #expect(seen.bodyBytes == body)
        #expect(seen.header("Expect") == nil)
    }

    @Test func headersAreSentAndReceived() async throws {
        let (response, seen) = try await echo(HTTPRequest(url: server.base + "/echo", headers: [
            HTTPHeader("X-Amz-Date", "20260101T000000Z"),
            HTTPHeader("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ec2/aws4_request"),
            HTTPHeader("X-Empty", ""),
        ]))
        #expect(seen.header("x-amz-date") == "20260101T000000Z")
        #expect(seen.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 ") == true)
        #expect(seen.header("X-Empty") == "")
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.headers.filter { $0.name == "X-Multi" }.map(\.value) == ["one", "two"])
    }

    @Test func headerWithLineBreakIsRefused() async throws {
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await client.send(HTTPRequest(url: server.base + "/echo",
                                                  headers: [HTTPHeader("X-Bad", "a\r\nInjected: yes")]))
        }
        #expect(error?.description.contains("Injected") == false)
    }

    @Test(arguments: [404, 500, 503, 400])
    func errorStatusesAreResponses(status: Int) async throws {
        let response = try await client.send(HTTPRequest(url: server.base + "/status/\(status)"))
        #expect(response.status == status)
        #expect(response.text == "status \(status)")
    }

    @Test func headResponseHasNoBody() async throws {
        let response = try await client.send(HTTPRequest(method: "HEAD", url: server.base + "/echo"))
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(response.header("X-Echo-Method") == "HEAD")
    }

    @Test func interimResponseHeadersAreDropped() async throws {
        let response = try await client.send(HTTPRequest(url: server.base + "/interim"))
        #expect(response.status == 200)
        #expect(response.text == "final")
        #expect(response.header("X-Final") == "yes")
        #expect(response.header("X-Interim") == nil)
    }

    @Test func redirectsAreResponsesByDefault() async throws {
        let response = try await client.send(HTTPRequest(url: server.base + "/redirect"))
        #expect(response.status == 302)
        #expect(response.header("Location") == "/echo/redirected")
    }

    @Test func followedRedirectKeepsTheLastHeaders() async throws {
        let following = CurlHTTPClient(followRedirects: true)
        let response = try await following.send(HTTPRequest(url: server.base + "/redirect"))
        #expect(response.status == 200)
        #expect(response.header("X-First") == nil)
        #expect(response.header("X-Echo-Method") == "GET")
        let seen = try JSONDecoder().decode(EchoedRequest.self, from: Data(response.body))
        #expect(seen.path == "/echo/redirected")
    }

    @Test func timeoutIsATransportErrorWithoutTheQuery() async throws {
        let request = HTTPRequest(url: server.base + "/hang?X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKID",
                                  timeout: .milliseconds(300))
        let error = await #expect(throws: HTTPTransportError.self) { _ = try await client.send(request) }
        #expect(error?.isTimeout == true)
        #expect(error?.url == server.base + "/hang")
        #expect(error?.description.contains("deadbeefcafe") == false)
        #expect(error?.description.contains("AKID") == false)
        #expect(error?.reason.contains("?") == false)
    }

    @Test func connectionRefusedIsATransportError() async throws {
        let url = "http://127.0.0.1:\(unusedLocalPort())/x?Signature=s3cr3t"
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await client.send(HTTPRequest(url: url, timeout: .seconds(5)))
        }
        #expect(error?.isTimeout == false)
        #expect(error?.description.contains("s3cr3t") == false)
    }

    @Test(arguments: ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "127.0.0.1/echo", "http:/x"])
    func unsupportedSchemeIsATransportError(url: String) async throws {
        await #expect(throws: HTTPTransportError.self) { _ = try await client.send(HTTPRequest(url: url)) }
    }

    @Test func schemeIsCaseInsensitive() async throws {
        let response = try await client.send(HTTPRequest(url: "HTTP://127.0.0.1:\(server.port)/status/204"))
        #expect(response.status == 204)
    }

    @Test func oversizedResponseIsATransportError() async throws {
        let small = CurlHTTPClient(maxResponseBytes: 1000)
        #expect(try await small.send(HTTPRequest(url: server.base + "/bytes/1000")).body.count == 1000)
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await small.send(HTTPRequest(url: server.base + "/bytes/5000"))
        }
        #expect(error?.reason.contains("1000") == true)
    }

    @Test func cancelledBeforeSendingThrowsCancellation() async throws {
        let task = Task { try await client.send(HTTPRequest(url: server.base + "/hang", timeout: .seconds(60))) }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func cancellationAbortsATransferInFlight() async throws {
        let id = UUID().uuidString
        let task = Task { try await client.send(HTTPRequest(url: server.base + "/hang/\(id)", timeout: .seconds(60))) }
        // Wait (by asking the server, not by timing) until the request has arrived.
        while try await client.send(HTTPRequest(url: server.base + "/seen/\(id)")).status != 200 {
            try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func explicitExpectHeaderIsKept() async throws {
        let (_, seen) = try await echo(HTTPRequest(method: "POST", url: server.base + "/echo",
                                                   headers: [HTTPHeader("Expect", "")], body: [1, 2, 3]))
        #expect(seen.bodyBytes == [1, 2, 3])
    }

    @Test func concurrentRequests() async throws {
        let paths = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<20 {
                group.addTask {
                    let response = try await client.send(HTTPRequest(
                        method: i.isMultiple(of: 2) ? "GET" : "POST",
                        url: server.base + "/echo/\(i)?n=\(i)", body: i.isMultiple(of: 2) ? [] : Array("\(i)".utf8)))
                    let seen = try JSONDecoder().decode(EchoedRequest.self, from: Data(response.body))
                    #expect(seen.bodyBytes == (i.isMultiple(of: 2) ? [] : Array("\(i)".utf8)))
                    return (i, seen.path)
                }
            }
            var paths: [Int: String] = [:]
            for try await (i, path) in group { paths[i] = path }
            return paths
        }
        #expect(paths.count == 20)
        for (i, path) in paths { #expect(path == "/echo/\(i)?n=\(i)") }
    }
}
