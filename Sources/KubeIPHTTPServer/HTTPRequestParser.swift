import KubeIPCore
import KubeIPHTTP

/// The limits a request must keep to (see ``HTTPServer/Configuration``).
struct HTTPRequestLimits: Sendable {
    var maxRequestLineBytes: Int
    var maxHeaderCount: Int
    var maxHeaderBytes: Int
    var maxBodyBytes: Int
}

/// What the bytes received so far on a connection amount to.
enum HTTPParseResult: Equatable {
    /// More bytes are needed; `headersComplete` tells whether the head is in (for `100 Continue`)
    /// and `expectsContinue` whether the client asked to be told to send its body.
    case incomplete(headersComplete: Bool, expectsContinue: Bool)
    /// A whole request, the number of bytes it took, and whether the connection closes after it.
    case request(HTTPServerRequest, consumed: Int, close: Bool)
    /// The request is refused: answer `status` with `message` and close the connection.
    case failure(status: Int, message: String)
}

/// Reads HTTP/1.1 requests (RFC 9112) from a connection's buffer. Strict where a lenient
/// reading could desynchronise framing (conflicting lengths, whitespace before a colon,
/// obsolete line folding); lenient where Go's server is (a bare LF ends a line).
enum HTTPRequestParser {
    static func parse(_ buffer: [UInt8], limits: HTTPRequestLimits) -> HTTPParseResult {
        // The request line.
        guard let lineEnd = findLineEnd(buffer, from: 0) else {
            if buffer.count > limits.maxRequestLineBytes { return .failure(status: 414, message: "request line too long") }
            return .incomplete(headersComplete: false, expectsContinue: false)
        }
        if lineEnd.contentEnd > limits.maxRequestLineBytes { return .failure(status: 414, message: "request line too long") }
        guard let line = String(validating: buffer[0..<lineEnd.contentEnd], as: UTF8.self) else {
            return .failure(status: 400, message: "malformed request line")
        }
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenCharacter), !parts[1].isEmpty else {
            return .failure(status: 400, message: "malformed request line")
        }
        let method = String(parts[0])
        let version = String(parts[2])
        guard version.hasPrefix("HTTP/") else { return .failure(status: 400, message: "malformed request line") }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .failure(status: 505, message: "HTTP version \(version) is not supported")
        }
        guard let (path, query) = splitTarget(String(parts[1]), method: method) else {
            return .failure(status: 400, message: "malformed request target")
        }

        // The header fields.
        var headers: [HTTPHeader] = []
        var position = lineEnd.next
        let headStart = position
        var headEnd: Int?
        while let end = findLineEnd(buffer, from: position) {
            if end.contentEnd == position {
                headEnd = end.next
                break
            }
            if end.next - headStart > limits.maxHeaderBytes { return .failure(status: 431, message: "header fields too large") }
            if headers.count >= limits.maxHeaderCount { return .failure(status: 431, message: "too many header fields") }
            let field = buffer[position..<end.contentEnd]
            guard let header = parseField(field) else { return .failure(status: 400, message: "malformed header field") }
            headers.append(header)
            position = end.next
        }
        guard let headEnd else {
            if buffer.count - headStart > limits.maxHeaderBytes { return .failure(status: 431, message: "header fields too large") }
            return .incomplete(headersComplete: false, expectsContinue: false)
        }
        func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name }.map(\.value)
        }
        if version == "HTTP/1.1" && values("host").isEmpty {
            return .failure(status: 400, message: "missing required Host header")
        }
        let connection = values("connection").flatMap { $0.lowercased().split(separator: ",") }
            .map { $0.trimmingSpaces }
        let close = connection.contains("close") || (version == "HTTP/1.0" && !connection.contains("keep-alive"))
        let expectsContinue = values("expect").contains { $0.lowercased() == "100-continue" } && version == "HTTP/1.1"

        // The body.
        let codings = values("transfer-encoding").flatMap { $0.lowercased().split(separator: ",") }.map { $0.trimmingSpaces }
        var body: [UInt8] = []
        var consumed = headEnd
        if !codings.isEmpty {
            guard codings == ["chunked"] else {
                return .failure(status: 501, message: "transfer coding \(codings.joined(separator: ", ")) is not supported")
            }
            guard values("content-length").isEmpty else {
                return .failure(status: 400, message: "both Transfer-Encoding and Content-Length")
            }
            switch dechunk(buffer, from: headEnd, limits: limits) {
            case .incomplete: return .incomplete(headersComplete: true, expectsContinue: expectsContinue)
            case .failure(let status, let message): return .failure(status: status, message: message)
            case .done(let decoded, let end):
                body = decoded
                consumed = end
            }
        } else {
            let lengths = Set(values("content-length").flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces })
            if lengths.count > 1 { return .failure(status: 400, message: "conflicting Content-Length") }
            if let text = lengths.first {
                guard !text.isEmpty, text.count <= 18, text.allSatisfy(\.isASCIIDigit), let length = Int(text) else {
                    return .failure(status: 400, message: "bad Content-Length")
                }
                if length > limits.maxBodyBytes { return .failure(status: 413, message: "request body too large") }
                if buffer.count - headEnd < length { return .incomplete(headersComplete: true, expectsContinue: expectsContinue) }
                body = Array(buffer[headEnd..<headEnd + length])
                consumed = headEnd + length
            }
        }
        let request = HTTPServerRequest(method: method, path: path, rawQuery: query, headers: headers, body: body,
                                        version: version)
        return .request(request, consumed: consumed, close: close)
    }

    private enum ChunkResult {
        case incomplete
        case failure(Int, String)
        case done([UInt8], end: Int)
    }

    /// Decodes a chunked body starting at `start` (chunk extensions ignored, trailers skipped).
    private static func dechunk(_ buffer: [UInt8], from start: Int, limits: HTTPRequestLimits) -> ChunkResult {
        var body: [UInt8] = []
        var position = start
        while true {
            guard let end = findLineEnd(buffer, from: position) else {
                return buffer.count - position > 1024 ? .failure(400, "malformed chunk size") : .incomplete
            }
            let sizeText = String(decoding: buffer[position..<end.contentEnd], as: UTF8.self)
                .split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingSpaces
            guard !sizeText.isEmpty, sizeText.count <= 15, let size = Int(sizeText, radix: 16) else {
                return .failure(400, "malformed chunk size")
            }
            position = end.next
            if size == 0 {
                // Trailer fields up to an empty line.
                var trailerBytes = 0
                while true {
                    guard let trailer = findLineEnd(buffer, from: position) else {
                        return buffer.count - position > limits.maxHeaderBytes ? .failure(431, "trailer too large") : .incomplete
                    }
                    trailerBytes += trailer.next - position
                    if trailerBytes > limits.maxHeaderBytes { return .failure(431, "trailer too large") }
                    let empty = trailer.contentEnd == position
                    position = trailer.next
                    if empty { return .done(body, end: position) }
                }
            }
            if body.count + size > limits.maxBodyBytes { return .failure(413, "request body too large") }
            guard buffer.count >= position + size + 1 else { return .incomplete }
            body.append(contentsOf: buffer[position..<position + size])
            position += size
            guard let after = findLineEnd(buffer, from: position) else { return .incomplete }
            guard after.contentEnd == position else { return .failure(400, "malformed chunk") }
            position = after.next
        }
    }

    /// Where the line starting at `from` ends: its content's end (before CR LF or LF) and the
    /// start of the next line.
    private static func findLineEnd(_ buffer: [UInt8], from: Int) -> (contentEnd: Int, next: Int)? {
        var index = from
        while index < buffer.count {
            if buffer[index] == 0x0A {
                let contentEnd = index > from && buffer[index - 1] == 0x0D ? index - 1 : index
                return (contentEnd, index + 1)
            }
            index += 1
        }
        return nil
    }

    private static func parseField(_ bytes: ArraySlice<UInt8>) -> HTTPHeader? {
        // Obsolete line folding (a line starting with whitespace) is refused, as RFC 9112 allows.
        guard let first = bytes.first, first != 0x20, first != 0x09,
              let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        guard let name = String(validating: bytes[bytes.startIndex..<colon], as: UTF8.self),
              !name.isEmpty, name.allSatisfy(isTokenCharacter) else { return nil }
        let valueBytes = bytes[(colon + 1)...]
        if valueBytes.contains(where: { $0 == 0 || $0 == 0x0D || $0 == 0x0A }) { return nil }
        let value = String(decoding: valueBytes, as: UTF8.self)
        return HTTPHeader(name, value.trimmingSpaces)
    }

    /// Splits an origin-form (`/path?query`), absolute-form (`http://host/path`) or asterisk
    /// (`OPTIONS *`) request target into path and raw query.
    private static func splitTarget(_ target: String, method: String) -> (String, String)? {
        var rest = Substring(target)
        if target == "*" { return method == "OPTIONS" ? ("*", "") : nil }
        if let scheme = rest.firstRange(of: "://"), rest[..<scheme.lowerBound].allSatisfy(\.isLetter) {
            rest = rest[scheme.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        guard rest.hasPrefix("/"), !rest.contains(where: { $0 == " " || $0.asciiValue.map { $0 < 0x20 } ?? false }) else {
            return nil
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        if character.isLetter || character.isNumber { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(ascii)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String { QuotedText.trimmingBlanks(self) }
}

extension Character {
    /// `0`...`9` only (not other Unicode digits).
    var isASCIIDigit: Bool { asciiValue.map { (0x30...0x39).contains($0) } ?? false }
}
