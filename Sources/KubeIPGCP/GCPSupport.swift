#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// Reads a local file as text; nil when it does not exist or cannot be read.
public typealias GCPFileReader = @Sendable (_ path: String) -> String?

/// The default ``GCPFileReader``: the local file system.
public let gcpLocalFileReader: GCPFileReader = { path in
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self)
}

/// One HTTP exchange as every GCP client here makes it: timed and logged at debug with the
/// method, the URL without its query, the status and the duration (never headers or bodies,
/// which carry tokens and assertions); a transport failure becomes a retryable ``KubeIPError``.
struct GCPTransport: Sendable {
    let http: any HTTPClient
    let logger: Logger

    func send(_ request: HTTPRequest, _ message: Logger.Message, _ metadata: Logger.Metadata = [:],
              unreachable: (HTTPTransportError) -> KubeIPError) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        var details = metadata
        details["method"] = "\(request.method)"
        details["url"] = "\(withoutQuery(request.url))"
        do {
            let response = try await http.send(request)
            details["status"] = "\(response.status)"
            details["duration_ms"] = "\(Self.milliseconds(since: started))"
            logger.debug(message, metadata: details)
            return response
        } catch let error as HTTPTransportError {
            details["status"] = "\(error.isTimeout ? "timeout" : "transport error")"
            details["duration_ms"] = "\(Self.milliseconds(since: started))"
            logger.debug(message, metadata: details)
            throw unreachable(error)
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        Int(((ContinuousClock.now - start).seconds * 1000).rounded())
    }
}

/// A URL without its query, for messages and logs.
func withoutQuery(_ url: String) -> String {
    url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
}

/// RFC 3986 percent-encoding of a path segment or query value (space is `%20`).
func percentEncode(_ text: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.append(byte)
        default:
            out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// `application/x-www-form-urlencoded` body or query string from ordered pairs.
func formEncode(_ parameters: [(String, String)]) -> String {
    parameters.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, CR and LF.
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
