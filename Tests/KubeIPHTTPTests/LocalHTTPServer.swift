import Foundation

/// A small HTTP/1.1 server on 127.0.0.1, run as a Python subprocess for the whole test run.
///
/// Routes:
/// - `/echo…` (any method): 200 with a JSON body describing the request (method, path, headers, hex body).
/// - `/status/<n>`: status n, body `status n`.
/// - `/hang`: reads the request and never answers; `/hang/<id>` also records `<id>`.
/// - `/seen/<id>`: 200 once a `/hang/<id>` request has arrived, else 404.
/// - `/interim`: a `100 Continue` carrying `X-Interim`, then 200 carrying `X-Final`.
/// - `/redirect`: 302 to `/echo/redirected`, carrying `X-First`.
/// - `/bytes/<n>`: 200 with n bytes of `x`.
/// - `/peer`: 200 with the client's TCP port as the body: one port per TCP connection, so
///   requests answered with the same port came over one kept-alive connection.
/// - `/close`: 200 with `Connection: close`, then the server closes the connection.
///
/// The server exits when its standard input closes, i.e. when the test process ends.
final class LocalHTTPServer: Sendable {
    static let shared: LocalHTTPServer = {
        do { return try LocalHTTPServer() } catch { fatalError("cannot start the local HTTP server: \(error)") }
    }()

    let port: Int
    private let python: PythonServer

    var base: String { "http://127.0.0.1:\(port)" }

    private init() throws {
        python = try PythonServer(script: Self.script)
        port = python.port
    }

    private static let script = #"""
import http.server, json, os, sys, threading, time

seen = set()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        if path.startswith("/status/"):
            code = int(path.split("/")[2].split("?")[0])
            self.reply(code, ("status %d" % code).encode())
        elif path.startswith("/seen/"):
            self.reply(200 if path.split("/")[2] in seen else 404, b"")
        elif path.startswith("/hang"):
            parts = path.split("?")[0].split("/")
            if len(parts) > 2:
                seen.add(parts[2])
            time.sleep(120)
        elif path.startswith("/interim"):
            self.wfile.write(b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n")
            self.reply(200, b"final", [("X-Final", "yes")])
        elif path.startswith("/redirect"):
            self.reply(302, b"moved", [("Location", "/echo/redirected"), ("X-First", "yes")])
        elif path.startswith("/peer"):
            self.reply(200, str(self.client_address[1]).encode())
        elif path.startswith("/close"):
            self.close_connection = True
            self.reply(200, b"closing", [("Connection", "close")])
        elif path.startswith("/bytes/"):
            self.reply(200, b"x" * int(path.split("/")[2]))
        else:
            described = {
                "method": self.command,
                "path": path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.hex(),
            }
            self.reply(200, json.dumps(described).encode(),
                       [("Content-Type", "application/json"), ("X-Echo-Method", self.command),
                        ("X-Multi", "one"), ("X-Multi", "two")])

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

"""#
}

/// What `/echo` reports about a request it received.
struct EchoedRequest: Decodable {
    var method: String
    var path: String
    var headers: [[String]]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0[0].lowercased() == name.lowercased() }?[1]
    }

    var bodyBytes: [UInt8] {
        var bytes: [UInt8] = []
        var index = body.startIndex
        while index < body.endIndex {
            let next = body.index(index, offsetBy: 2)
            bytes.append(UInt8(body[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}

/// A Python server script run as a subprocess. The script defines `Server` (a socketserver
/// class) and `Handler`; this adds the rest: it listens on 127.0.0.1 at a free port, prints the
/// port on its first line of output, and exits when its standard input closes (when the test
/// process ends).
final class PythonServer: Sendable {
    private static let serve = """

        import os as _os, sys as _sys, threading as _threading
        server = Server(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)

        def _watch_stdin():
            _sys.stdin.read()
            _os._exit(0)

        _threading.Thread(target=_watch_stdin, daemon=True).start()
        server.serve_forever()
        """

    let port: Int
    private let process: Process
    private let stdinPipe: Pipe

    init(script: String, arguments: [String] = []) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-c", script + Self.serve] + arguments
        let out = Pipe()
        stdinPipe = Pipe()
        process.standardOutput = out
        process.standardInput = stdinPipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(text) else { throw CocoaError(.fileReadCorruptFile) }
        self.port = port
    }
}

/// A TCP port on 127.0.0.1 that nobody listens on (bound, then closed).
func unusedLocalPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
