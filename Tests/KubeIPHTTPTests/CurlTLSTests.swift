import Foundation
import KubeIPHTTP
import Testing

/// TLS trust and identity against a local HTTPS server with its own CA: CA from a file or PEM
/// bytes (replacing the system store), client certificates, server-name overrides, the
/// package-only insecure mode, and keep-alive over TLS.
@Suite(.enabled(if: LocalTLSServer.available, "needs the openssl and python3 commands to run a local HTTPS server"))
struct CurlTLSTests {
    private var server: LocalTLSServer { LocalTLSServer.shared }
    private var localhost: String { "https://localhost:\(server.port)/who" }

    private func peer(_ client: CurlHTTPClient, _ url: String) async throws -> TLSPeer {
        let response = try await client.send(HTTPRequest(url: url, timeout: .seconds(10)))
        #expect(response.status == 200)
        return try JSONDecoder().decode(TLSPeer.self, from: Data(response.body))
    }

    @Test func systemStoreRefusesTheTestCA() async throws {
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await CurlHTTPClient().send(HTTPRequest(url: localhost, timeout: .seconds(10)))
        }
        #expect(error?.isTimeout == false)
    }

    @Test func trustedCAFromAFile() async throws {
        let client = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .file(server.caPath)))
        #expect(try await peer(client, localhost).client == "")
        #expect(CurlHTTPClient(caBundlePath: server.caPath).caBundlePath == server.caPath)
        #expect(try await peer(CurlHTTPClient(caBundlePath: server.caPath), localhost).client == "")
    }

    @Test func trustedCAFromPEMBytes() async throws {
        let client = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .data(server.bytes(server.caPath))))
        #expect(try await peer(client, localhost).client == "")
    }

    @Test func anotherCAReplacesTheStoreAndIsRefused() async throws {
        let client = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .data(server.bytes(server.otherCAPath))))
        await #expect(throws: HTTPTransportError.self) {
            _ = try await client.send(HTTPRequest(url: localhost, timeout: .seconds(10)))
        }
    }

    @Test func clientCertificateFromFiles() async throws {
        let client = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .file(server.caPath),
                                                    clientCertificate: .file(server.clientCertificatePath),
                                                    clientKey: .file(server.clientKeyPath)))
        #expect(try await peer(client, localhost).client == "kubeip-client")
    }

    @Test func clientCertificateFromPEMBytes() async throws {
        let client = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .data(server.bytes(server.caPath)),
                                                    clientCertificate: .data(server.bytes(server.clientCertificatePath)),
                                                    clientKey: .data(server.bytes(server.clientKeyPath))))
        #expect(try await peer(client, localhost).client == "kubeip-client")
    }

    @Test func hostNameMismatchIsRefusedUnlessTheServerNameIsOverridden() async throws {
        let url = "https://127.0.0.1:\(server.port)/who"
        let plain = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .file(server.caPath)))
        await #expect(throws: HTTPTransportError.self) {
            _ = try await plain.send(HTTPRequest(url: url, timeout: .seconds(10)))
        }
        let named = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .file(server.caPath), serverName: "kube.test"))
        let seen = try await peer(named, url)
        // The connection went to 127.0.0.1; the Host header still names it.
        #expect(seen.host == "127.0.0.1:\(server.port)")
        let wrong = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .file(server.caPath), serverName: "other.test"))
        await #expect(throws: HTTPTransportError.self) {
            _ = try await wrong.send(HTTPRequest(url: url, timeout: .seconds(10)))
        }
    }

    @Test(arguments: ["bad name", "a:b", "x/y", ""])
    func serverNamesThatAreNotDNSNamesAreRefused(name: String) async throws {
        let client = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .file(server.caPath), serverName: name))
        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await client.send(HTTPRequest(url: localhost, timeout: .seconds(10)))
        }
        #expect(error?.reason.contains("server name") == true)
    }

    @Test func insecureModeSkipsVerification() async throws {
        let client = CurlHTTPClient(tls: TLSOptions().insecureSkippingVerification)
        #expect(try await peer(client, "https://127.0.0.1:\(server.port)/who").client == "")
        #expect(client.tls.skipsVerification)
        #expect(!TLSOptions().skipsVerification)
    }

    @Test func keepAliveOverTLS() async throws {
        let client = CurlHTTPClient(tls: TLSOptions(trustedCertificates: .file(server.caPath)))
        var ports: Set<Int> = []
        for _ in 0..<5 { ports.insert(try await peer(client, localhost).port) }
        #expect(ports.count == 1, "five sequential HTTPS requests made \(ports.count) TLS handshakes")
    }

    @Test func descriptionsNeverShowKeyMaterial() throws {
        let key = Array("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n".utf8)
        let options = TLSOptions(trustedCertificates: .data([1, 2, 3]), clientCertificate: .file("/etc/c.crt"),
                                 clientKey: .data(key), serverName: "kube.test")
        for text in [options.description, options.debugDescription, String(reflecting: options), "\(options)",
                     { var out = ""; dump(options, to: &out); return out }()] {
            #expect(!text.contains("c2VjcmV0"))
            #expect(!text.contains("PRIVATE KEY"))
        }
        #expect(options.description.contains("client key <redacted>"))
        #expect(options.description.contains("server name kube.test"))
    }
}
