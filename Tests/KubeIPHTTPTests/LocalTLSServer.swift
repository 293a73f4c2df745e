import Foundation

/// An HTTPS server on 127.0.0.1 (Python's `ssl`), with a test CA, a server certificate and a
/// client certificate made by the `openssl` command into a temporary directory.
///
/// - The server certificate names `kube.test` and `localhost` only (not `127.0.0.1`), so a
///   request to `https://127.0.0.1:<port>` fails host-name verification unless a TLS server
///   name override says `kube.test`.
/// - Client certificates are optional; one signed by the test CA is reported.
///
/// Every path answers 200 with `{"port": <client TCP port>, "client": "<client CN or empty>"}`.
/// `available` is false (and the TLS tests are skipped) when `openssl` or `python3` is missing.
final class LocalTLSServer: Sendable {
    static let available: Bool = tool("openssl") && tool("python3")

    static let shared: LocalTLSServer = {
        do { return try LocalTLSServer() } catch { fatalError("cannot start the local TLS server: \(error)") }
    }()

    let port: Int
    let directory: String
    private let python: PythonServer

    var caPath: String { directory + "/ca.crt" }
    var otherCAPath: String { directory + "/other-ca.crt" }
    var clientCertificatePath: String { directory + "/client.crt" }
    var clientKeyPath: String { directory + "/client.key" }
    func bytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }

    private init() throws {
        directory = NSTemporaryDirectory() + "kubeip-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/bin/sh")
        make.arguments = ["-euc", Self.certificates, "sh", directory]
        make.standardOutput = FileHandle.nullDevice
        make.standardError = FileHandle.nullDevice
        try make.run()
        make.waitUntilExit()
        guard make.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }

        python = try PythonServer(script: Self.script, arguments: [directory])
        port = python.port
    }

    private static func tool(_ name: String) -> Bool {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// A CA, a server certificate for kube.test/localhost, a client certificate, and an unrelated CA.
    private static let certificates = #"""
cd "$1"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=kubeip-test-ca
openssl req -x509 $ec -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=kubeip-other-ca
openssl req $ec -keyout server.key -out server.csr -subj /CN=kube.test
printf 'subjectAltName=DNS:kube.test,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext
openssl req $ec -keyout client.key -out client.csr -subj /CN=kubeip-client
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 -extfile client.ext
"""#

    private static let script = #"""
import http.server, json, os, ssl, sys, threading

directory = sys.argv[1]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(directory, "server.crt"), os.path.join(directory, "server.key"))
context.load_verify_locations(os.path.join(directory, "ca.crt"))
context.verify_mode = ssl.CERT_OPTIONAL

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        client = ""
        peer = self.connection.getpeercert()
        if peer:
            for rdn in peer.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        client = value
        body = json.dumps({"port": self.client_address[1], "client": client,
                           "host": self.headers.get("Host", "")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        sock, address = self.socket.accept()
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, address):
        pass

"""#
}

/// What the TLS server reports about a request.
struct TLSPeer: Decodable, Equatable {
    var port: Int
    var client: String
    var host: String
}
