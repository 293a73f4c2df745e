import KubeIPCore
import KubeIPHTTP
import KubeIPHTTPServer
import Logging

/// The local listener behind `metrics-address`: `/healthz` (the loop is alive and making
/// progress) and `/readyz` (every address is held and announced; in kube mode, the Node reports
/// it), for kubelet's probes and for monitoring. GET and HEAD only; bounded by the server's
/// limits (a few connections, small requests, read timeouts); it never blocks the daemon.
struct HealthListener: Sendable {
    let server: HTTPServer
    let logger: Logger

    /// A listener on `address` (`host:port`) over `health`.
    /// - Throws: `.invalidSetting` naming `metrics-address` when it cannot listen there.
    static func start(address: String, health: DaemonHealth, logger: Logger) throws -> HealthListener {
        guard var configuration = HTTPServer.Configuration(address: address) else {
            throw KubeIPError.invalid("metrics-address", "'\(address)' is not host:port")
        }
        configuration.maxConnections = 8
        configuration.maxBodyBytes = 0
        configuration.maxHeaderBytes = 8192
        configuration.requestTimeout = .seconds(5)
        configuration.idleTimeout = .seconds(30)
        configuration.shutdownGracePeriod = .seconds(1)
        // Answered on the server's own thread: a probe gets its answer even when the daemon's
        // tasks are wedged (and then says so), instead of timing out.
        let server = HTTPServer(configuration: configuration, immediate: { request in
            Self.answer(request, health: health.snapshot)
        })
        do {
            let bound = try server.start()
            logger.info("listening for health checks", metadata: ["address": "\(bound)"])
        } catch {
            throw KubeIPError.invalid("metrics-address", "\(error)")
        }
        return HealthListener(server: server, logger: logger)
    }

    /// The answer to one request, from one reading of the health.
    static func answer(_ request: HTTPServerRequest, health: DaemonHealth.Snapshot) -> HTTPServerResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            var response = HTTPServerResponse.text("only GET and HEAD\n", status: 405)
            response.headers.append(HTTPHeader("Allow", "GET, HEAD"))
            return response
        }
        let body: (Bool, String)
        switch request.path {
        case "/healthz", "/livez":
            body = (health.alive, health.alive ? "ok: \(health.phase.rawValue)\n" : "stalled: \(health.phase.rawValue) past its deadline\n")
        case "/readyz":
            body = (health.ready, health.ready ? "ready: \(health.phase.rawValue)\n" : "not ready: \(health.phase.rawValue)\n")
        default:
            return .text("not found; try /healthz or /readyz\n", status: 404)
        }
        var response = HTTPServerResponse.text(body.1, status: body.0 ? 200 : 503)
        if request.method == "HEAD" { response.body = [] }
        response.headers.append(HTTPHeader("Cache-Control", "no-store"))
        return response
    }

    func stop() async {
        await server.stop()
    }
}
