#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPConfig
import KubeIPCore
import KubeIPHTTP

/// Reads kubeconfig files into a ``KubeConnection``, as kubectl reads them:
///
/// - Several files (a `KUBECONFIG` list) merge: the first file to name a cluster, user or
///   context wins, and the first non-empty `current-context` wins. Missing files in a list are
///   skipped; an explicit single file must exist.
/// - Relative paths (`certificate-authority`, `client-certificate`, `client-key`, `tokenFile`,
///   an exec `command` with a slash) are relative to the file that names them.
/// - Refused, with an error naming the file and entry: `insecure-skip-tls-verify: true` unless
///   the caller allows it (`kube-allow-insecure-tls`), `proxy-url`, basic auth, the legacy
///   `auth-provider`, impersonation, and ambiguous pairs (a CA file and CA data, a token and
///   an exec plugin, a CA with insecure mode).
///
/// Errors are ``KubeIPError`` with `setting` `kubeconfig`: `.invalidSetting` for the
/// configuration, `.authentication` for credentials. None carries a token or key material.
public struct KubeconfigLoader: Sendable {
    /// How files are read.
    public let fileSystem: any FileSystemReading
    /// Whether `insecure-skip-tls-verify: true` is accepted.
    public let allowInsecureTLS: Bool

    public init(fileSystem: any FileSystemReading = RealFileSystem(), allowInsecureTLS: Bool = false) {
        self.fileSystem = fileSystem
        self.allowInsecureTLS = allowInsecureTLS
    }

    /// The connection of `context` (nil: the current context) in the merged `paths`.
    /// `explicit` (one file named by a flag or setting) requires every path to exist.
    public func connection(paths: [String], explicit: Bool = false, context: String? = nil) throws -> KubeConnection {
        var files: [KubeconfigFile] = []
        var seen: Set<String> = []
        for path in paths where !path.isEmpty && seen.insert(path).inserted {
            let text: String?
            do {
                text = try fileSystem.readFile(atPath: path)
            } catch let error as KubeIPError {
                throw KubeIPError(.invalidSetting, "cannot read kubeconfig \(path): \(error.message)", setting: "kubeconfig")
            }
            guard let text else {
                if explicit { throw invalid("kubeconfig \(path) does not exist") }
                continue
            }
            files.append(try KubeconfigFile(path: path, text: text))
        }
        guard !files.isEmpty else {
            throw invalid("none of the kubeconfig files \(paths.filter { !$0.isEmpty }.joined(separator: ", ")) exists")
        }
        return try resolve(Merged(files), context: context)
    }

    // MARK: Merging

    /// The files merged: first definition of each name wins.
    struct Merged {
        var paths: [String]
        var currentContext: (name: String, path: String)?
        var clusters: [String: KubeconfigFile.Named<KubeconfigFile.Cluster>] = [:]
        var users: [String: KubeconfigFile.Named<KubeconfigFile.User>] = [:]
        var contexts: [String: KubeconfigFile.Named<KubeconfigFile.Context>] = [:]

        init(_ files: [KubeconfigFile]) {
            paths = files.map(\.path)
            for file in files {
                if currentContext == nil, let name = file.currentContext, !name.isEmpty {
                    currentContext = (name, file.path)
                }
                for entry in file.clusters where clusters[entry.name] == nil { clusters[entry.name] = entry }
                for entry in file.users where users[entry.name] == nil { users[entry.name] = entry }
                for entry in file.contexts where contexts[entry.name] == nil { contexts[entry.name] = entry }
            }
        }

        var described: String { paths.count == 1 ? "kubeconfig \(paths[0])" : "kubeconfig \(paths.joined(separator: ":"))" }
    }

    // MARK: Resolving

    private func resolve(_ merged: Merged, context requested: String?) throws -> KubeConnection {
        guard let contextName = requested ?? merged.currentContext?.name else {
            throw invalid("\(merged.described) has no current-context; set one with 'kubectl config use-context NAME'")
        }
        guard let context = merged.contexts[contextName] else {
            throw invalid("\(merged.described) has no context '\(contextName)'")
        }
        let where_ = "kubeconfig \(context.origin.path)"
        guard let clusterName = context.value.cluster, !clusterName.isEmpty else {
            throw invalid("context '\(contextName)' in \(where_) names no cluster")
        }
        guard let cluster = merged.clusters[clusterName] else {
            throw invalid("context '\(contextName)' in \(where_) names cluster '\(clusterName)', which \(merged.described) does not define")
        }
        var user: KubeconfigFile.Named<KubeconfigFile.User>?
        if let userName = context.value.user, !userName.isEmpty {
            guard let found = merged.users[userName] else {
                throw invalid("context '\(contextName)' in \(where_) names user '\(userName)', which \(merged.described) does not define")
            }
            user = found
        }

        let server = try self.server(cluster)
        var tls = try trust(cluster)
        var credentials = KubeCredentialSource.none
        if let user {
            credentials = try self.credentials(user, cluster: cluster, server: server, tls: &tls)
            if credentials.isBearer, server.hasPrefix("http://"), !Self.isLoopback(server) {
                throw invalid("cluster '\(cluster.name)' in kubeconfig \(cluster.origin.path) has an http:// server; kubeip sends bearer tokens over https only (or to a loopback address)")
            }
        }
        var origin = "kubeconfig \(context.origin.path), context \(contextName) (cluster \(cluster.name)"
        origin += user.map { ", user \($0.name))" } ?? ")"
        return KubeConnection(server: server, tls: tls, credentials: credentials, namespace: context.value.namespace,
                              origin: origin)
    }

    private func server(_ cluster: KubeconfigFile.Named<KubeconfigFile.Cluster>) throws -> String {
        let entry = "cluster '\(cluster.name)' in kubeconfig \(cluster.origin.path)"
        guard let server = cluster.value.server?.trimmedWhitespace, !server.isEmpty else {
            throw invalid("\(entry) has no server")
        }
        guard let parts = URLParts(server), parts.query == nil else {
            throw invalid("\(entry) has server '\(urlWithoutQuery(server))', which is not an https:// URL")
        }
        if let proxy = cluster.value.proxyURL, !proxy.isEmpty {
            throw invalid("\(entry) sets proxy-url, which kubeip does not support; set https_proxy (and no_proxy) in kubeip's environment instead")
        }
        return parts.path == "/" ? parts.origin : parts.origin + parts.path
    }

    private func trust(_ cluster: KubeconfigFile.Named<KubeconfigFile.Cluster>) throws -> TLSOptions {
        let entry = "cluster '\(cluster.name)' in kubeconfig \(cluster.origin.path)"
        let value = cluster.value
        var tls = TLSOptions()
        if let name = value.tlsServerName, !name.isEmpty { tls.serverName = name }
        let file = value.certificateAuthority.flatMap { $0.isEmpty ? nil : $0 }
        let data = value.certificateAuthorityData.flatMap { $0.isEmpty ? nil : $0 }
        if file != nil && data != nil {
            throw invalid("\(entry) sets both certificate-authority and certificate-authority-data; keep one")
        }
        if let data {
            tls.trustedCertificates = .data(try pem(base64: data, what: "certificate-authority-data of \(entry)"))
        } else if let file {
            tls.trustedCertificates = .data(try pem(file: file, what: "certificate-authority file \(file) named by \(entry)",
                                                    code: .invalidSetting))
        }
        if value.insecureSkipTLSVerify {
            guard tls.trustedCertificates == nil else {
                throw invalid("\(entry) sets insecure-skip-tls-verify together with a certificate authority; keep one")
            }
            guard allowInsecureTLS else {
                throw invalid("\(entry) sets insecure-skip-tls-verify: true, which turns off checking the API server's certificate; kubeip refuses it unless the setting kube-allow-insecure-tls is true (KUBE_ALLOW_INSECURE_TLS=true)")
            }
            tls = tls.insecureSkippingVerification
        }
        return tls
    }

    private func credentials(_ user: KubeconfigFile.Named<KubeconfigFile.User>,
                             cluster: KubeconfigFile.Named<KubeconfigFile.Cluster>, server: String,
                             tls: inout TLSOptions) throws -> KubeCredentialSource {
        let entry = "user '\(user.name)' in kubeconfig \(user.origin.path)"
        let value = user.value
        if value.basicAuth {
            throw denied("\(entry) uses username/password (basic auth), which Kubernetes no longer accepts and kubeip does not support; use a token, a client certificate or an exec plugin")
        }
        if let provider = value.authProvider {
            throw denied("\(entry) uses the legacy auth-provider '\(provider)', which client-go removed; use an exec plugin instead (gke-gcloud-auth-plugin on GKE, kubelogin on AKS or for OIDC)")
        }
        if value.impersonation {
            throw denied("\(entry) impersonates another identity (as/as-groups), which kubeip does not support; use that identity's own credentials")
        }

        // Static client certificate: part of the TLS identity.
        let certificate = try clientPEM(file: value.clientCertificate, data: value.clientCertificateData,
                                        what: "client-certificate", entry: entry)
        let key = try clientPEM(file: value.clientKey, data: value.clientKeyData, what: "client-key", entry: entry)
        switch (certificate, key) {
        case (let certificate?, let key?):
            tls.clientCertificate = .data(certificate)
            tls.clientKey = .data(key)
        case (.some, nil): throw denied("\(entry) has a client certificate but no client-key")
        case (nil, .some): throw denied("\(entry) has a client-key but no client certificate")
        case (nil, nil): break
        }

        let token = value.token.flatMap { $0.isEmpty ? nil : $0 }
        let tokenFile = value.tokenFile.flatMap { $0.isEmpty ? nil : $0 }
        if let exec = value.exec {
            if token != nil || tokenFile != nil {
                throw denied("\(entry) has both a token and an exec plugin; keep one")
            }
            return .exec(try execConfig(exec, entry: entry, cluster: cluster, server: server, tls: tls))
        }
        if let tokenFile {
            // As kubectl: the file wins over a static token, and is read again as it rotates.
            guard let text = try? fileSystem.readFile(atPath: tokenFile), !text.trimmedWhitespace.isEmpty else {
                throw denied("cannot read the tokenFile \(tokenFile) named by \(entry)")
            }
            return .tokenFile(tokenFile)
        }
        if let token { return .token(KubeSecret(token)) }
        return .none
    }

    private func execConfig(_ exec: KubeconfigFile.Exec, entry: String,
                            cluster: KubeconfigFile.Named<KubeconfigFile.Cluster>, server: String,
                            tls: TLSOptions) throws -> ExecCredentialConfig {
        guard let command = exec.command, !command.isEmpty else {
            throw denied("the exec plugin of \(entry) has no command")
        }
        guard let version = exec.apiVersion else {
            throw denied("the exec plugin of \(entry) has no apiVersion; use client.authentication.k8s.io/v1 (or v1beta1)")
        }
        guard let apiVersion = ExecCredentialConfig.APIVersion(rawValue: version) else {
            throw denied("the exec plugin of \(entry) uses apiVersion \(version); kubeip supports client.authentication.k8s.io/v1 and v1beta1")
        }
        if let mode = exec.interactiveMode {
            guard ["Never", "IfAvailable", "Always"].contains(mode) else {
                throw denied("the exec plugin of \(entry) has interactiveMode '\(mode)'; expected Never, IfAvailable or Always")
            }
            if mode == "Always" {
                throw denied("the exec plugin of \(entry) requires an interactive terminal (interactiveMode: Always), which a daemon does not have")
            }
        }
        var clusterInfo: ExecCredentialConfig.ClusterInfo?
        if exec.provideClusterInfo {
            var ca: [UInt8]?
            if case .data(let bytes) = tls.trustedCertificates { ca = bytes }
            clusterInfo = .init(server: server, tlsServerName: tls.serverName,
                                insecureSkipTLSVerify: tls.skipsVerification, certificateAuthorityData: ca)
        }
        return ExecCredentialConfig(apiVersion: apiVersion, command: command, args: exec.args, env: exec.env,
                                    cluster: clusterInfo, installHint: exec.installHint, origin: entry)
    }

    // MARK: PEM material

    private func clientPEM(file: String?, data: String?, what: String, entry: String) throws -> [UInt8]? {
        let file = file.flatMap { $0.isEmpty ? nil : $0 }
        let data = data.flatMap { $0.isEmpty ? nil : $0 }
        if file != nil && data != nil { throw denied("\(entry) sets both \(what) and \(what)-data; keep one") }
        if let data { return try pem(base64: data, what: "\(what)-data of \(entry)", code: .authentication) }
        if let file { return try pem(file: file, what: "\(what) file \(file) named by \(entry)", code: .authentication) }
        return nil
    }

    private func pem(base64 text: String, what: String, code: KubeIPError.Code = .invalidSetting) throws -> [UInt8] {
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw KubeIPError(code, "the \(what) is not valid base64", setting: "kubeconfig")
        }
        return try checkedPEM(Array(data), what: what, code: code)
    }

    private func pem(file path: String, what: String, code: KubeIPError.Code) throws -> [UInt8] {
        let text: String?
        do {
            text = try fileSystem.readFile(atPath: path)
        } catch let error as KubeIPError {
            throw KubeIPError(code, "cannot read the \(what): \(error.message)", setting: "kubeconfig")
        }
        guard let text else { throw KubeIPError(code, "cannot read the \(what): no such file", setting: "kubeconfig") }
        return try checkedPEM(Array(text.utf8), what: what, code: code)
    }

    private func checkedPEM(_ bytes: [UInt8], what: String, code: KubeIPError.Code) throws -> [UInt8] {
        guard String(decoding: bytes, as: UTF8.self).contains("-----BEGIN ") else {
            throw KubeIPError(code, "the \(what) is not PEM (no '-----BEGIN' line)", setting: "kubeconfig")
        }
        return bytes
    }

    // MARK: Helpers

    static func isLoopback(_ server: String) -> Bool {
        guard let host = URLParts(server)?.host.lowercased() else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "[::1]"
    }

    private func invalid(_ message: String) -> KubeIPError {
        KubeIPError(.invalidSetting, message, setting: "kubeconfig")
    }

    private func denied(_ message: String) -> KubeIPError {
        KubeIPError(.authentication, message, setting: "kubeconfig")
    }
}

extension KubeCredentialSource {
    /// Whether requests carry a bearer token.
    var isBearer: Bool {
        switch self {
        case .none: false
        case .token, .tokenFile, .exec: true
        }
    }
}
