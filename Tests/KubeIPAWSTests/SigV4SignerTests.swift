import Foundation
import Testing
@testable import KubeIPAWS
import KubeIPHTTP

/// The AWS SigV4 test suite at ../shared/testdata/aws-sigv4, plus a cross-check with botocore.
@Suite struct SigV4SignerTests {
    /// `shared/testdata/aws-sigv4`, found by walking up from this file (as the Kubernetes schemas
    /// are), so that it does not matter how deep the checkout is.
    static let suiteRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("shared/testdata/aws-sigv4")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: "/shared/testdata/aws-sigv4")
    }()

    static let suiteCredentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE",
                                                 secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2015-08-30T12:36:00Z
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)

    /// Every case directory (one holding a `.req`), relative to the suite root.
    static func cases() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: suiteRoot.path)
        var found: [String] = []
        while let item = enumerator?.nextObject() as? String {
            if item.hasSuffix(".req") {
                found.append((item as NSString).deletingLastPathComponent)
            }
        }
        return found.sorted()
    }

    /// A parsed `.req`: the raw HTTP/1.1 request of the suite.
    struct SuiteRequest {
        var method: String
        var target: String
        var headers: [HTTPHeader]
        var body: [UInt8]
    }

    static func parseRequest(_ text: String) -> SuiteRequest {
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let firstSpace = requestLine.firstIndex(of: " ")!
        let method = String(requestLine[..<firstSpace])
        var target = String(requestLine[requestLine.index(after: firstSpace)...])
        if target.hasSuffix(" HTTP/1.1") { target.removeLast(" HTTP/1.1".count) }
        var headers: [HTTPHeader] = []
        var bodyLines: [String] = []
        var inBody = false
        for line in lines {
            if inBody { bodyLines.append(line); continue }
            if line.isEmpty { inBody = true; continue }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                // Obsolete line folding: the continuation joins the previous value with a space.
                headers[headers.count - 1].value += " " + line
                continue
            }
            let colon = line.firstIndex(of: ":")!
            headers.append(HTTPHeader(String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        return SuiteRequest(method: method, target: target, headers: headers,
                            body: Array(bodyLines.joined(separator: "\n").utf8))
    }

    static func read(_ path: URL) throws -> String {
        try String(contentsOf: path, encoding: .utf8)
    }

    @Test func theSuiteIsPresentAndComplete() {
        #expect(Self.cases().count == 34)
    }

    @Test(arguments: cases())
    func signsLikeTheAWSSuite(_ directory: String) throws {
        let name = (directory as NSString).lastPathComponent
        let base = Self.suiteRoot.appendingPathComponent(directory).appendingPathComponent(name)
        let parsed = Self.parseRequest(try Self.read(base.appendingPathExtension("req")))
        let host = parsed.headers.first { $0.name.lowercased() == "host" }!.value
        var credentials = Self.suiteCredentials
        switch name {
        case "get-vanilla-with-session-token":
            // The token is not in the .req: the case signs with temporary credentials.
            credentials.sessionToken = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
        case "post-sts-header-before":
            // The token header in the .req is the one the signer must add and sign.
            credentials.sessionToken = parsed.headers.first { $0.name == "X-Amz-Security-Token" }!.value
        default:
            // post-sts-header-after adds the token after signing: signing is the plain case.
            break
        }
        let request = HTTPRequest(method: parsed.method, url: "https://\(host)\(parsed.target)",
                                  headers: parsed.headers, body: parsed.body)
        let signer = SigV4Signer(service: "service", region: "us-east-1")
        let result = signer.signature(for: request, credentials: credentials, date: Self.suiteDate)
        #expect(result.canonicalRequest == (try Self.read(base.appendingPathExtension("creq"))))
        #expect(result.stringToSign == (try Self.read(base.appendingPathExtension("sts"))))
        #expect(result.authorization == (try Self.read(base.appendingPathExtension("authz"))))
    }

    // MARK: botocore

    /// Signs with botocore's SigV4Auth at a fixed time and returns its headers (name: value lines).
    static func botocoreHeaders(url: String, body: String, headers: [(String, String)],
                                credentials: AWSCredentials, service: String, region: String,
                                date: String) throws -> [String: String] {
        let script = """
        import datetime, json, sys
        import botocore.auth
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        spec = json.load(sys.stdin)
        fixed = datetime.datetime.strptime(spec["date"], "%Y%m%dT%H%M%SZ")
        botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed
        request = AWSRequest(method="POST", url=spec["url"], data=spec["body"].encode("utf-8"),
                             headers=dict(spec["headers"]))
        creds = Credentials(spec["key"], spec["secret"], spec.get("token"))
        SigV4Auth(creds, spec["service"], spec["region"]).add_auth(request)
        print(json.dumps(dict(request.headers.items())))
        """
        var spec: [String: Any] = ["url": url, "body": body, "headers": headers.map { [$0.0, $0.1] },
                                   "key": credentials.accessKeyID, "secret": credentials.secretAccessKey,
                                   "service": service, "region": region, "date": date]
        if let token = credentials.sessionToken { spec["token"] = token }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: spec))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BotocoreFailure(message: problems)
        }
        return try JSONSerialization.jsonObject(with: data) as? [String: String] ?? [:]
    }

    struct BotocoreFailure: Error { var message: String }

    static var botocoreAvailable: Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import botocore"]
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    @Test(.enabled(if: botocoreAvailable, "needs python3 with botocore"),
          arguments: [("https://ec2.eu-west-1.amazonaws.com/", "eu-west-1"),
                      ("http://127.0.0.1:5123", "us-east-1")])
    func signsAnEC2QueryLikeBotocore(endpoint: String, region: String) throws {
        let credentials = AWSCredentials(accessKeyID: "ASIAEXAMPLEKEY123456",
                                         secretAccessKey: "kWcrlUX5JEDGM/LtmEENI/aVmYvHNif5zB+d9+ct",
                                         sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJH+token=")
        let body = PercentEncoding.form([
            ("Action", "DescribeAddresses"), ("Version", "2016-11-15"),
            ("Filter.1.Name", "tag:env"), ("Filter.1.Value.1", "prod"), ("Filter.1.Value.2", "dev env"),
            ("Filter.2.Name", "domain"), ("Filter.2.Value.1", "vpc"),
        ])
        let contentType = "application/x-www-form-urlencoded; charset=utf-8"
        // 2026-11-27T16:00:00Z
        let date = Date(timeIntervalSince1970: 1_795_795_200)
        let request = HTTPRequest(method: "POST", url: endpoint,
                                  headers: [HTTPHeader("Content-Type", contentType)], body: Array(body.utf8))
        let ours = SigV4Signer(service: "ec2", region: region).sign(request, credentials: credentials, date: date)
        let theirs = try Self.botocoreHeaders(url: endpoint, body: body, headers: [("Content-Type", contentType)],
                                              credentials: credentials, service: "ec2", region: region,
                                              date: UTCTime.amzDate(date))
        #expect(UTCTime.amzDate(date) == "20261127T160000Z")
        #expect(ours.header("Authorization") == theirs["Authorization"])
        #expect(ours.header("X-Amz-Date") == theirs["X-Amz-Date"])
        #expect(ours.header("X-Amz-Security-Token") == theirs["X-Amz-Security-Token"])
    }
}
