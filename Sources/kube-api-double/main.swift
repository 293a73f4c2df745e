// kube-api-double: the Kubernetes API double (KubeIPTestSupport) served over HTTP on
// 127.0.0.1 for tests and test tools; never part of the kubeip product.
//
//   kube-api-double [--port N] [--config FILE]
//
// --port 0 (the default) picks a free port. Once listening it prints one line on standard
// output, `listening on 127.0.0.1:PORT`, and serves until SIGTERM or SIGINT (exit 0).
// The settings file (YAML or JSON) is described in KubernetesDoubleSettings.
import KubeIPConfig
import KubeIPHTTPServer
import KubeIPSystemd
import KubeIPTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to a file descriptor, unbuffered.
func writeLine(_ text: String, to fd: Int32) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

func fail(_ message: String, status: Int32 = 2) -> Never {
    writeLine("kube-api-double: \(message)", to: 2)
    exit(status)
}

var port = 0
var configPath: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--port":
        guard let value = arguments.popFirst(), let number = Int(value), (0...65535).contains(number) else {
            fail("--port needs a number from 0 to 65535")
        }
        port = number
    case "--config":
        guard let value = arguments.popFirst() else { fail("--config needs a file") }
        configPath = value
    case "-h", "--help":
        writeLine("usage: kube-api-double [--port N] [--config FILE]", to: 1)
        exit(0)
    default:
        fail("unknown argument \(argument) (try --help)")
    }
}

let settings: KubernetesDoubleSettings
do {
    let files = RealFileSystem()
    if let configPath {
        guard let text = try files.readFile(atPath: configPath) else { fail("\(configPath): no such file") }
        let directory = configPath.contains("/") ? String(configPath[..<configPath.lastIndex(of: "/")!]) : "."
        settings = try KubernetesDoubleSettings(parsing: text, path: configPath, directory: directory,
                                                readFile: { try files.readFile(atPath: $0) })
    } else {
        settings = try KubernetesDoubleSettings(parsing: "{}", path: "<defaults>", directory: ".", readFile: { _ in nil })
    }
} catch {
    fail("\(error)")
}

signal(SIGPIPE, SIG_IGN)

let double = await settings.makeDouble()
// Bodies up to 3 MiB, as the apiserver's default limit for JSON.
let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: port, maxConnections: 128,
                                             maxBodyBytes: 3 << 20, idleTimeout: .seconds(90)),
                        handler: { request in await double.handle(request) })
let address: HTTPServerAddress
do {
    address = try server.start()
} catch {
    fail("\(error)", status: 1)
}
await double.update { $0.serverAddress = address.description }
let signals = await SignalSource(terminate: [SIGTERM, SIGINT], reload: [])
let stopper = Task {
    for await signal in signals.signals where signal == .terminate {
        server.requestStop()
        break
    }
}
writeLine("listening on \(address)", to: 1)
try? await server.run()
stopper.cancel()
signals.cancel()
exit(0)
