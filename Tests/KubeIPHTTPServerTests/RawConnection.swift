import Glibc

/// Runs blocking socket work on a thread of its own, so test tasks never block the
/// cooperative pool the server's handlers need.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        let job = Job { continuation.resume(returning: body()) }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        pthread_create(&thread, nil, { raw in
            Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        pthread_detach(thread)
    }
}

private final class Job: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// A plain blocking TCP client for feeding the server exact bytes (and garbage).
/// Every read gives up after `timeout` seconds, so a broken test fails instead of hanging.
final class RawConnection: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `host:port` (IPv4 or IPv6 numeric host); nil when the connection is refused.
    init?(host: String = "127.0.0.1", port: Int, timeout: Int = 10) {
        let family = host.contains(":") ? AF_INET6 : AF_INET
        fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var ok: Int32
        if family == AF_INET6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr(host)
            ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if ok != 0 {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    /// Sends all of `text`; false when the peer is gone.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// One response: status line, headers, and a Content-Length body (none for `HEAD`).
    /// Nil on EOF, a reset or a timeout.
    func readResponse(toHead: Bool = false) -> RawResponse? {
        guard let head = readUntil([13, 10, 13, 10]) else { return nil }
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n").map(String.init)
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
              let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]).lowercased(),
                            String(line[line.index(after: colon)...]).trimmingPrefix(" ").description))
        }
        let length = toHead ? 0 : headers.first { $0.0 == "content-length" }.flatMap { Int($0.1) } ?? 0
        guard let body = readExactly(length) else { return nil }
        return RawResponse(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    /// True when the server closed the connection (EOF or reset) before `timeout` ran out.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        while true {
            if !buffer.isEmpty { buffer.removeAll(); continue }
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    private func readUntil(_ marker: [UInt8]) -> [UInt8]? {
        while true {
            if let range = buffer.firstRange(of: marker) {
                let head = Array(buffer[..<range.upperBound])
                buffer.removeFirst(range.upperBound)
                return head
            }
            if !fill() { return nil }
        }
    }

    private func readExactly(_ count: Int) -> [UInt8]? {
        while buffer.count < count { if !fill() { return nil } }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }
}

/// A response as ``RawConnection`` read it.
struct RawResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? { headers.first { $0.0 == name.lowercased() }?.1 }
}

/// One request, written out.
func rawRequest(_ method: String = "GET", _ target: String = "/", headers: [String] = [], body: String = "") -> String {
    var text = "\(method) \(target) HTTP/1.1\r\nHost: test\r\n"
    for header in headers { text += header + "\r\n" }
    if !body.isEmpty || method == "POST" || method == "PUT" { text += "Content-Length: \(body.utf8.count)\r\n" }
    return text + "\r\n" + body
}
