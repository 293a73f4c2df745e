#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPCrypto
import KubeIPHTTP

/// AWS Signature Version 4 for requests signed in the `Authorization` header.
///
/// The signer sets `Host` (from the URL, with a non-default port), `X-Amz-Date` and, for
/// temporary credentials, `X-Amz-Security-Token`, then signs every header of the request
/// except a few hop-by-hop ones and adds `Authorization`.
public struct SigV4Signer: Sendable {
    /// The signing name of the service (`ec2`, `sts`).
    public var service: String
    /// The signing region (`eu-west-1`).
    public var region: String

    /// Headers never signed: proxies and HTTP stacks may change or drop them.
    static let unsignedHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    public init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// The intermediate products of one signature (exposed for tests against the AWS suite).
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var authorization: String
        /// The request with `Host`, `X-Amz-Date`, `X-Amz-Security-Token` and `Authorization` set.
        public var request: HTTPRequest
    }

    /// Returns `request` signed with `credentials` at `date`.
    public func sign(_ request: HTTPRequest, credentials: AWSCredentials, date: Date) -> HTTPRequest {
        signature(for: request, credentials: credentials, date: date).request
    }

    /// Signs `request` and returns every intermediate product.
    public func signature(for request: HTTPRequest, credentials: AWSCredentials, date: Date) -> Signature {
        let amzDate = UTCTime.amzDate(date)
        let day = String(amzDate.prefix(8))
        let parts = URLParts(request.url)

        var signed = request
        let replaced: Set<String> = ["host", "x-amz-date", "authorization", "x-amz-security-token"]
        signed.headers.removeAll { replaced.contains($0.name.lowercased()) }
        var added = [HTTPHeader("Host", parts?.hostHeader ?? ""), HTTPHeader("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken, !token.isEmpty {
            added.append(HTTPHeader("X-Amz-Security-Token", token))
        }
        signed.headers.insert(contentsOf: added, at: 0)

        // Canonical headers: lower-case names, trimmed values with inner runs of spaces
        // collapsed, repeated headers joined by ',' in their original order.
        var values: [String: [String]] = [:]
        for header in signed.headers {
            let name = header.name.lowercased().trimmedWhitespace
            guard !Self.unsignedHeaders.contains(name) else { continue }
            values[name, default: []].append(Self.collapse(header.value))
        }
        let names = values.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonicalHeaders = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let canonicalRequest = [
            request.method.uppercased(),
            canonicalPath(parts?.path ?? "/"),
            Self.canonicalQuery(parts?.query),
            canonicalHeaders,
            signedHeaders,
            Hex.encode(SHA256.hash(request.body)),
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Hex.encode(SHA256.hash(canonicalRequest))]
            .joined(separator: "\n")

        var key = HMACSHA256.authenticate(day, key: Array("AWS4\(credentials.secretAccessKey)".utf8))
        key = HMACSHA256.authenticate(region, key: key)
        key = HMACSHA256.authenticate(service, key: key)
        key = HMACSHA256.authenticate("aws4_request", key: key)
        let signatureHex = Hex.encode(HMACSHA256.authenticate(stringToSign, key: key))

        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signatureHex)"
        signed.headers.append(HTTPHeader("Authorization", authorization))
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign,
                         authorization: authorization, request: signed)
    }

    /// The canonical URI. S3 signs the path as sent; every other service signs it with dot
    /// segments resolved and empty segments removed, and each segment encoded once more
    /// (so an escape already in the URL is encoded again, as AWS specifies).
    func canonicalPath(_ path: String) -> String {
        if service == "s3" { return path }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = segments.popLast(); continue }
            segments.append(segment)
        }
        var normalised = "/" + segments.joined(separator: "/")
        let endsInDirectory = path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..")
        if endsInDirectory && !segments.isEmpty { normalised += "/" }
        return PercentEncoding.encode(normalised, keeping: [UInt8(ascii: "/")])
    }

    /// The canonical query: each name and value decoded then re-encoded (RFC 3986), sorted by
    /// name then value, byte-wise.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs: [(String, String)] = query.split(separator: "&", omittingEmptySubsequences: true).map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.encode(PercentEncoding.decode(String(parts[0])))
            let value = parts.count > 1 ? PercentEncoding.encode(PercentEncoding.decode(String(parts[1]))) : ""
            return (name, value)
        }
        return pairs.sorted { a, b in
            a.0 != b.0 ? Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
                       : Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
        }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Trims a header value and collapses each run of whitespace to one space.
    static func collapse(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .joined(separator: " ")
    }
}
