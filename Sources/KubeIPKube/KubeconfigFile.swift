import KubeIPConfig
import KubeIPCore

/// One kubeconfig file as read: its named clusters, users and contexts and its current
/// context, with every relative path already resolved against the file's directory (as
/// kubectl does before merging). Values are kept as written; ``KubeconfigLoader`` decides.
struct KubeconfigFile: Sendable {
    /// Where an entry was defined, for messages and for relative paths.
    struct Origin: Sendable, Equatable {
        var path: String
        var line: Int
        var directory: String { KubeconfigFile.directory(of: path) }
    }

    struct Named<Value: Sendable>: Sendable {
        var name: String
        var value: Value
        var origin: Origin
    }

    struct Cluster: Sendable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify = false
        var tlsServerName: String?
        var proxyURL: String?
    }

    struct Exec: Sendable {
        var apiVersion: String?
        var command: String?
        var args: [String] = []
        var env: [ExecCredentialConfig.Variable] = []
        var provideClusterInfo = false
        var interactiveMode: String?
        var installHint: String?
    }

    struct User: Sendable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        /// `username`/`password` were set (their values are never kept).
        var basicAuth = false
        /// The legacy `auth-provider`'s name, when set.
        var authProvider: String?
        /// `as`, `as-uid` or `as-groups` (impersonation) were set.
        var impersonation = false
        var exec: Exec?
    }

    struct Context: Sendable {
        var cluster: String?
        var user: String?
        var namespace: String?
    }

    var path: String
    var currentContext: String?
    var clusters: [Named<Cluster>] = []
    var users: [Named<User>] = []
    var contexts: [Named<Context>] = []

    /// Reads `text`, the contents of the kubeconfig at `path`.
    init(path: String, text: String) throws {
        self.path = path
        let reader = Reader(path: path)
        guard let root = try YAMLNode.parse(text, path: path, setting: "kubeconfig",
                                            syntaxHint: "is this a kubeconfig file?"),
              !root.isNull else { return }
        guard root.pairs != nil else { throw reader.fail(root.line, "expected a kubeconfig mapping (apiVersion, clusters, users, contexts)") }
        currentContext = try reader.string(root["current-context"], "current-context")
        clusters = try reader.list(root, "clusters", body: "cluster") { try reader.cluster($0) }
        users = try reader.list(root, "users", body: "user") { try reader.user($0) }
        contexts = try reader.list(root, "contexts", body: "context") { try reader.context($0) }
    }

    /// The directory part of `path` (`.` for a bare name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` made absolute against `directory` when it is relative (empty stays empty), with
    /// `.` and `..` segments removed lexically.
    static func resolve(_ path: String, against directory: String) -> String {
        guard !path.isEmpty else { return path }
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        var segments: [Substring] = []
        for segment in joined.split(separator: "/") {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty && segments.last != ".." { segments.removeLast() } else if !joined.hasPrefix("/") { segments.append(segment) }
            default: segments.append(segment)
            }
        }
        let cleaned = segments.joined(separator: "/")
        return joined.hasPrefix("/") ? "/" + cleaned : (cleaned.isEmpty ? "." : cleaned)
    }
}

/// Turns YAML nodes into kubeconfig entries, with errors naming the file, line and entry.
private struct Reader {
    let path: String
    var directory: String { KubeconfigFile.directory(of: path) }

    func fail(_ line: Int, _ what: String) -> KubeIPError {
        KubeIPError(.invalidSetting, "kubeconfig \(path):\(line): \(what)", setting: "kubeconfig")
    }

    /// A scalar, or nil when absent or null.
    func string(_ node: YAMLNode?, _ what: String) throws -> String? {
        guard let node, !node.isNull else { return nil }
        guard let text = node.text else { throw fail(node.line, "'\(what)' must be a value, not \(node.kindDescription)") }
        return text
    }

    func bool(_ node: YAMLNode?, _ what: String) throws -> Bool {
        guard let text = try string(node, what) else { return false }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw fail(node?.line ?? 0, "'\(what)' must be true or false, not '\(text)'")
        }
    }

    func path(_ node: YAMLNode?, _ what: String) throws -> String? {
        try string(node, what).map { KubeconfigFile.resolve($0, against: directory) }
    }

    func mapping(_ node: YAMLNode?, _ what: String) throws -> YAMLNode? {
        guard let node, !node.isNull else { return nil }
        guard node.pairs != nil else { throw fail(node.line, "'\(what)' must be a mapping, not \(node.kindDescription)") }
        return node
    }

    /// `key:` as a list of `{name: …, <body>: {…}}`, each built by `build`; names unique.
    func list<Value: Sendable>(_ root: YAMLNode, _ key: String, body: String,
                               build: (YAMLNode) throws -> Value) throws -> [KubeconfigFile.Named<Value>] {
        guard let node = root[key], !node.isNull else { return [] }
        guard let items = node.items else { throw fail(node.line, "'\(key)' must be a list, not \(node.kindDescription)") }
        var entries: [KubeconfigFile.Named<Value>] = []
        for item in items {
            guard item.pairs != nil else { throw fail(item.line, "each of '\(key)' must be a mapping with 'name' and '\(body)'") }
            guard let name = try string(item["name"], "name"), !name.isEmpty else {
                throw fail(item.line, "an entry of '\(key)' has no name")
            }
            if let earlier = entries.first(where: { $0.name == name }) {
                throw fail(item.line, "\(body) '\(name)' is defined twice (first on line \(earlier.origin.line))")
            }
            let content = try mapping(item[body], "\(body)") ?? YAMLNode(.mapping([]), line: item.line)
            entries.append(.init(name: name, value: try build(content), origin: .init(path: path, line: item.line)))
        }
        return entries
    }

    func cluster(_ node: YAMLNode) throws -> KubeconfigFile.Cluster {
        KubeconfigFile.Cluster(
            server: try string(node["server"], "server"),
            certificateAuthority: try path(node["certificate-authority"], "certificate-authority"),
            certificateAuthorityData: try string(node["certificate-authority-data"], "certificate-authority-data"),
            insecureSkipTLSVerify: try bool(node["insecure-skip-tls-verify"], "insecure-skip-tls-verify"),
            tlsServerName: try string(node["tls-server-name"], "tls-server-name"),
            proxyURL: try string(node["proxy-url"], "proxy-url"))
    }

    func user(_ node: YAMLNode) throws -> KubeconfigFile.User {
        var user = KubeconfigFile.User()
        user.token = try string(node["token"], "token")
        user.tokenFile = try path(node["tokenFile"], "tokenFile")
        user.clientCertificate = try path(node["client-certificate"], "client-certificate")
        user.clientCertificateData = try string(node["client-certificate-data"], "client-certificate-data")
        user.clientKey = try path(node["client-key"], "client-key")
        user.clientKeyData = try string(node["client-key-data"], "client-key-data")
        user.basicAuth = [node["username"], node["password"]].contains { $0.map { !$0.isNull } ?? false }
        if let provider = try mapping(node["auth-provider"], "auth-provider") {
            user.authProvider = try string(provider["name"], "auth-provider.name") ?? "unnamed"
        }
        user.impersonation = ["as", "as-uid", "as-groups", "as-user-extra"].contains { key in
            node[key].map { !$0.isNull } ?? false
        }
        if let exec = try mapping(node["exec"], "exec") { user.exec = try self.exec(exec) }
        return user
    }

    func exec(_ node: YAMLNode) throws -> KubeconfigFile.Exec {
        var exec = KubeconfigFile.Exec()
        exec.apiVersion = try string(node["apiVersion"], "exec.apiVersion")
        exec.command = try string(node["command"], "exec.command").map { command in
            // A relative path (one with a slash) is relative to the kubeconfig; a bare name is looked up in PATH.
            command.contains("/") ? KubeconfigFile.resolve(command, against: directory) : command
        }
        if let args = node["args"], !args.isNull {
            guard let items = args.items else { throw fail(args.line, "'exec.args' must be a list") }
            exec.args = try items.map { item in
                guard let text = item.text else { throw fail(item.line, "each of 'exec.args' must be a value") }
                return text
            }
        }
        if let env = node["env"], !env.isNull {
            guard let items = env.items else { throw fail(env.line, "'exec.env' must be a list of {name, value}") }
            exec.env = try items.map { item in
                guard let name = try string(item["name"], "exec.env.name"), !name.isEmpty else {
                    throw fail(item.line, "each of 'exec.env' needs a name")
                }
                return ExecCredentialConfig.Variable(name: name, value: try string(item["value"], "exec.env.value") ?? "")
            }
        }
        exec.provideClusterInfo = try bool(node["provideClusterInfo"], "exec.provideClusterInfo")
        exec.interactiveMode = try string(node["interactiveMode"], "exec.interactiveMode")
        exec.installHint = try string(node["installHint"], "exec.installHint")
        return exec
    }

    func context(_ node: YAMLNode) throws -> KubeconfigFile.Context {
        KubeconfigFile.Context(cluster: try string(node["cluster"], "cluster"),
                               user: try string(node["user"], "user"),
                               namespace: try string(node["namespace"], "namespace"))
    }
}
