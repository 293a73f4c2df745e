import KubeIPConfig
import KubeIPCore
import KubeIPSimulator

/// The `kube-api-double` settings file (YAML or JSON):
///
/// ```yaml
/// users:                                  # bearer token → identity
///   - {token: admin-token, name: admin, groups: [system:masters]}
///   - {token: kubeip-token, serviceAccount: kube-system/kubeip}
/// rbacFiles: [rbac.yaml]                  # Role/ClusterRole/(Cluster)RoleBinding manifests, relative to this file
/// rbac: []                                # the same objects inline
/// authorization: rbac                     # or allow-all; default rbac when any RBAC is given
/// namespaces: [default, kube-system]      # default: default, kube-system, kube-public, kube-node-lease
/// createNamespacesOnDemand: false
/// nodes:
///   - {name: node-1, providerID: "aws:///us-east-1a/i-0abc", labels: {}, taints: [{key: k, effect: NoSchedule}],
///      addresses: [{type: InternalIP, address: 10.0.0.5}]}
/// ```
public struct KubernetesDoubleSettings: Sendable {
    public var configuration: KubernetesAPIDouble.Configuration
    /// Nodes to register at start.
    public var nodes: [(name: String, providerID: String, labels: [String: String], taints: [KubernetesAPIDouble.Taint],
                        addresses: [KubernetesAPIDouble.NodeAddress]?)]

    /// Reads a settings document; `readFile` resolves `rbacFiles` (paths relative to `directory`).
    public init(parsing text: String, path: String, directory: String,
                readFile: (String) throws -> String?) throws {
        let document = try YAMLTree.documents(text, path: path).first ?? [:]
        func fail(_ what: String) -> KubeIPError { KubeIPError(.invalidSetting, "\(path): \(what)") }
        var users: [String: KubernetesUser] = [:]
        for (index, entry) in (document["users"]?.arrayValue ?? []).enumerated() {
            guard let token = entry["token"]?.stringValue, !token.isEmpty else { throw fail("users[\(index)].token is required") }
            let groups = (entry["groups"]?.arrayValue ?? []).compactMap(\.stringValue)
            if let account = entry["serviceAccount"]?.stringValue {
                let parts = account.split(separator: "/").map(String.init)
                guard parts.count == 2 else { throw fail("users[\(index)].serviceAccount must be namespace/name") }
                var user = KubernetesUser.serviceAccount(namespace: parts[0], name: parts[1])
                user.groups += groups.filter { !user.groups.contains($0) }
                users[token] = user
            } else {
                guard let name = entry["name"]?.stringValue, !name.isEmpty else {
                    throw fail("users[\(index)] needs a name or a serviceAccount")
                }
                users[token] = KubernetesUser(name: name, groups: groups)
            }
        }
        var policy = RBACPolicy()
        var hasRBAC = false
        for file in (document["rbacFiles"]?.arrayValue ?? []).compactMap(\.stringValue) {
            let full = file.hasPrefix("/") ? file : "\(directory)/\(file)"
            guard let manifests = try readFile(full) else { throw fail("rbac file \(full) not found") }
            try policy.load(manifests, path: full)
            hasRBAC = true
        }
        for object in document["rbac"]?.arrayValue ?? [] {
            try policy.load(object)
            hasRBAC = true
        }
        let mode = document["authorization"]?.stringValue ?? (hasRBAC ? "rbac" : "allow-all")
        guard mode == "rbac" || mode == "allow-all" else { throw fail("authorization must be rbac or allow-all") }
        var configuration = KubernetesAPIDouble.Configuration(users: users, rbac: mode == "rbac" ? policy : nil)
        if let namespaces = document["namespaces"]?.arrayValue { configuration.namespaces = namespaces.compactMap(\.stringValue) }
        configuration.createsNamespacesOnDemand = document["createNamespacesOnDemand"]?.boolValue ?? false
        self.configuration = configuration
        nodes = try (document["nodes"]?.arrayValue ?? []).enumerated().map { index, node in
            guard let name = node["name"]?.stringValue, !name.isEmpty else { throw fail("nodes[\(index)].name is required") }
            return (name, node["providerID"]?.stringValue ?? "", node["labels"]?.stringMap ?? [:],
                    (node["taints"]?.arrayValue ?? []).map(KubernetesAPIDouble.taint),
                    node["addresses"]?.arrayValue.map { $0.map(KubernetesAPIDouble.address) })
        }
    }

    /// A double with these settings, its nodes registered.
    public func makeDouble(clock: any WallClock = SystemClock()) async -> KubernetesAPIDouble {
        let double = KubernetesAPIDouble(configuration: configuration, clock: clock)
        for node in nodes {
            await double.addNode(name: node.name, providerID: node.providerID, labels: node.labels, taints: node.taints,
                                 addresses: node.addresses)
        }
        return double
    }
}
