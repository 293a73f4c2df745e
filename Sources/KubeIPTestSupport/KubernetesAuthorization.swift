import KubeIPCore
import KubeIPSimulator

/// Who a bearer token belongs to.
public struct KubernetesUser: Sendable, Hashable {
    public var name: String
    public var groups: [String]

    /// A user; `system:authenticated` is added to the groups, as the authenticator does.
    public init(name: String, groups: [String] = []) {
        self.name = name
        self.groups = groups.contains("system:authenticated") ? groups : groups + ["system:authenticated"]
    }

    /// A service account's identity: `system:serviceaccount:<ns>:<name>` in the groups
    /// `system:serviceaccounts` and `system:serviceaccounts:<ns>`.
    public static func serviceAccount(namespace: String, name: String) -> KubernetesUser {
        KubernetesUser(name: "system:serviceaccount:\(namespace):\(name)",
                       groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)"])
    }
}

/// One RBAC `PolicyRule` (resource rules only; non-resource URLs are open to every
/// authenticated user in the double, as `system:discovery` makes them in a real cluster).
public struct RBACRule: Sendable, Hashable {
    public var apiGroups: [String]
    public var resources: [String]
    public var verbs: [String]
    public var resourceNames: [String]

    public init(apiGroups: [String], resources: [String], verbs: [String], resourceNames: [String] = []) {
        self.apiGroups = apiGroups
        self.resources = resources
        self.verbs = verbs
        self.resourceNames = resourceNames
    }

    /// `rbac.RuleAllows` (pkg/registry/rbac/validation): verb, group, resource (with
    /// `resource/subresource`, `*` and `*/subresource`) and resource name must all match.
    public func allows(_ attributes: KubernetesRequestAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(attributes.verb) else { return false }
        guard apiGroups.contains("*") || apiGroups.contains(attributes.apiGroup) else { return false }
        let combined = attributes.subresource.isEmpty ? attributes.resource : "\(attributes.resource)/\(attributes.subresource)"
        let resourceMatches = resources.contains { rule in
            rule == "*" || rule == combined
                || (!attributes.subresource.isEmpty && rule == "*/\(attributes.subresource)")
        }
        guard resourceMatches else { return false }
        return resourceNames.isEmpty || resourceNames.contains(attributes.name)
    }

    /// A rule from a Role/ClusterRole `rules` entry.
    init(_ value: JSONValue) throws {
        func strings(_ key: String) throws -> [String] {
            guard let raw = value[key] else { return [] }
            guard let items = raw.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw KubeIPError(.invalidSetting, "RBAC rule: \(key) must be a list of strings")
            }
            return items.compactMap(\.stringValue)
        }
        self.init(apiGroups: try strings("apiGroups"), resources: try strings("resources"), verbs: try strings("verbs"),
                  resourceNames: try strings("resourceNames"))
        if value["nonResourceURLs"] != nil && resources.isEmpty { self.verbs = [] }
    }
}

/// The RBAC attributes of one request (`authorizer.Attributes`), with the answer's status.
public struct KubernetesRequestAttributes: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    /// get, list, watch, create, update, patch, delete, deletecollection; for non-resource
    /// requests the lower-cased HTTP method (`get`).
    public var verb: String
    public var apiGroup: String
    public var resource: String
    public var subresource: String
    public var namespace: String
    public var name: String
    /// Set for non-resource requests (`/api`, `/version`).
    public var path: String
    public var isResourceRequest: Bool
    /// The HTTP status answered (0 while in flight).
    public var status: Int

    public init(user: String, verb: String, apiGroup: String = "", resource: String = "", subresource: String = "",
                namespace: String = "", name: String = "", path: String = "", isResourceRequest: Bool = true, status: Int = 0) {
        self.user = user
        self.verb = verb
        self.apiGroup = apiGroup
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.path = path
        self.isResourceRequest = isResourceRequest
        self.status = status
    }

    /// `verb group/resource[/sub] ns/name -> status`, for failure messages.
    public var description: String {
        guard isResourceRequest else { return "\(user) \(verb) \(path) -> \(status)" }
        let resourceText = (apiGroup.isEmpty ? "" : "\(apiGroup)/") + resource + (subresource.isEmpty ? "" : "/\(subresource)")
        return "\(user) \(verb) \(resourceText) \(namespace.isEmpty ? "" : "\(namespace)/")\(name) -> \(status)"
    }

    /// The message the authorization filter answers with (`responsewriters.forbiddenMessage`).
    var forbiddenMessage: String {
        guard isResourceRequest else { return "User \(goQuote(user)) cannot \(verb) path \(goQuote(path))" }
        let combined = subresource.isEmpty ? resource : "\(resource)/\(subresource)"
        if !namespace.isEmpty {
            return "User \(goQuote(user)) cannot \(verb) resource \(goQuote(combined)) in API group \(goQuote(apiGroup)) in the namespace \(goQuote(namespace))"
        }
        return "User \(goQuote(user)) cannot \(verb) resource \(goQuote(combined)) in API group \(goQuote(apiGroup)) at the cluster scope"
    }
}

/// RBAC as the double enforces it: roles, cluster roles and their bindings, read from the
/// manifests a deployment ships (`rbac.authorization.k8s.io/v1` Role, ClusterRole,
/// RoleBinding, ClusterRoleBinding), plus direct grants for tests.
public struct RBACPolicy: Sendable, Hashable {
    /// A subject of a binding: `User`, `Group` or `ServiceAccount` (with its namespace).
    public struct Subject: Sendable, Hashable {
        public var kind: String
        public var name: String
        public var namespace: String

        public init(kind: String, name: String, namespace: String = "") {
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }

        func matches(_ user: KubernetesUser) -> Bool {
            switch kind {
            case "User": return name == user.name
            case "Group": return user.groups.contains(name)
            case "ServiceAccount": return user.name == "system:serviceaccount:\(namespace):\(name)"
            default: return false
            }
        }
    }

    /// A binding of subjects to rules, in one namespace or (empty) cluster-wide.
    public struct Grant: Sendable, Hashable {
        public var subjects: [Subject]
        /// The role it refers to: `ClusterRole/name` or `Role/namespace/name`.
        public var roleRef: String
        public var namespace: String
    }

    /// Rules by role reference (`ClusterRole/name`, `Role/namespace/name`).
    public var roles: [String: [RBACRule]] = [:]
    public var grants: [Grant] = []

    public init() {}

    /// Adds every Role, ClusterRole, RoleBinding and ClusterRoleBinding in `manifests`
    /// (YAML or JSON, one or more documents, `List` items included); other kinds are skipped.
    public mutating func load(_ manifests: String, path: String = "<rbac>") throws {
        for document in try YAMLTree.documents(manifests, path: path) { try load(document) }
    }

    /// Adds one RBAC object (or each item of a `List`).
    public mutating func load(_ object: JSONValue) throws {
        let kind = object["kind"]?.stringValue ?? ""
        let namespace = object.string(at: ["metadata", "namespace"])
        let name = object.string(at: ["metadata", "name"])
        switch kind {
        case "List":
            for item in object["items"]?.arrayValue ?? [] { try load(item) }
        case "ClusterRole", "Role":
            let rules = try (object["rules"]?.arrayValue ?? []).map { try RBACRule($0) }
            roles[kind == "Role" ? "Role/\(namespace.isEmpty ? "default" : namespace)/\(name)" : "ClusterRole/\(name)"] = rules
        case "ClusterRoleBinding", "RoleBinding":
            let refKind = object.string(at: ["roleRef", "kind"])
            let refName = object.string(at: ["roleRef", "name"])
            let bindingNamespace = kind == "RoleBinding" ? (namespace.isEmpty ? "default" : namespace) : ""
            let subjects = (object["subjects"]?.arrayValue ?? []).map { subject in
                Subject(kind: subject["kind"]?.stringValue ?? "", name: subject["name"]?.stringValue ?? "",
                        namespace: subject["namespace"]?.stringValue ?? bindingNamespace)
            }
            let ref = refKind == "Role" ? "Role/\(bindingNamespace)/\(refName)" : "ClusterRole/\(refName)"
            grants.append(Grant(subjects: subjects, roleRef: ref, namespace: bindingNamespace))
        default:
            break
        }
    }

    /// Grants `rules` to a user directly, cluster-wide or in one namespace.
    public mutating func grant(_ rules: [RBACRule], to user: String, namespace: String = "") {
        let ref = "Direct/\(grants.count)"
        roles[ref] = rules
        grants.append(Grant(subjects: [Subject(kind: "User", name: user)], roleRef: ref, namespace: namespace))
    }

    /// Whether `user` may do what `attributes` describe. Members of `system:masters` may do
    /// anything; non-resource requests are allowed to every authenticated user.
    public func allows(_ user: KubernetesUser, _ attributes: KubernetesRequestAttributes) -> Bool {
        if user.groups.contains("system:masters") || !attributes.isResourceRequest { return true }
        for grant in grants where grant.subjects.contains(where: { $0.matches(user) }) {
            // A namespaced grant covers only requests in its namespace.
            if !grant.namespace.isEmpty && grant.namespace != attributes.namespace { continue }
            if (roles[grant.roleRef] ?? []).contains(where: { $0.allows(attributes) }) { return true }
        }
        return false
    }
}
