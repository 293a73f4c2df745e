import Testing
@testable import KubeIPHTTPServer

@Suite("HTTPRequestParser")
struct HTTPRequestParserTests {
    let limits = HTTPRequestLimits(maxRequestLineBytes: 200, maxHeaderCount: 10, maxHeaderBytes: 500, maxBodyBytes: 100)

    func parse(_ text: String) -> HTTPParseResult { HTTPRequestParser.parse(Array(text.utf8), limits: limits) }

    @Test("a whole request: method, path, raw and decoded query, headers, body, bytes consumed")
    func wholeRequest() throws {
        let text = "PATCH /api/v1/nodes/a?labelSelector=a%3Db%2Cc+d&x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}GET"
        guard case .request(let request, let consumed, let close) = parse(text) else {
            Issue.record("not parsed: \(parse(text))")
            return
        }
        #expect(request.method == "PATCH")
        #expect(request.path == "/api/v1/nodes/a")
        #expect(request.rawQuery == "labelSelector=a%3Db%2Cc+d&x")
        #expect(request.query("labelSelector") == "a=b,c d")
        #expect(request.query("x") == "")
        #expect(request.header("content-length") == "2")
        #expect(request.body == Array("{}".utf8))
        #expect(consumed == text.utf8.count - 3)
        #expect(!close)
    }

    @Test("incomplete input waits for more; a finished head with Expect asks for 100 Continue")
    func incomplete() {
        #expect(parse("GET / HTTP/1.1\r\nHost:") == .incomplete(headersComplete: false, expectsContinue: false))
        #expect(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nab")
                == .incomplete(headersComplete: true, expectsContinue: true))
        #expect(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab")
                == .incomplete(headersComplete: true, expectsContinue: false))
    }

    @Test("bare LF line ends, absolute-form targets and HTTP/1.0 (closes by default) are read as Go reads them")
    func lenientForms() {
        guard case .request(let request, _, let close) = parse("GET http://h:1/p?q=1 HTTP/1.0\n\n") else {
            Issue.record("not parsed")
            return
        }
        #expect(request.path == "/p")
        #expect(request.rawQuery == "q=1")
        #expect(close)
        guard case .request(_, _, let keep) = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") else {
            Issue.record("not parsed")
            return
        }
        #expect(!keep)
    }

    @Test("refusals", arguments: [
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET nopath HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / FTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", 413),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    ])
    func refusals(text: String, status: Int) {
        guard case .failure(let got, _) = parse(text) else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(got == status)
    }
}
