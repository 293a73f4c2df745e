import KubeIPSimulator

/// One resource the double serves, described as discovery describes it.
public struct KubernetesResourceType: Sendable, Hashable {
    /// `""` for the core group.
    public var group: String
    public var version: String
    /// The plural, lower-case resource name (`nodes`).
    public var resource: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    public var shortNames: [String]
    /// The subresources served (`status` for nodes).
    public var subresources: [String]
    /// Whether a PUT may create a missing object (the registry strategy's `AllowCreateOnUpdate`).
    public var allowCreateOnUpdate: Bool

    /// `v1` or `coordination.k8s.io/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var groupResource: GroupResource { GroupResource(group: group, resource: resource) }

    /// Verbs listed in discovery (watch is listed as the real API lists it, though the double refuses it).
    var verbs: [String] { ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] }

    public static let nodes = KubernetesResourceType(
        group: "", version: "v1", resource: "nodes", singular: "node", kind: "Node", namespaced: false,
        shortNames: ["no"], subresources: ["status"], allowCreateOnUpdate: false)
    public static let namespaces = KubernetesResourceType(
        group: "", version: "v1", resource: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false,
        shortNames: ["ns"], subresources: [], allowCreateOnUpdate: false)
    public static let coreEvents = KubernetesResourceType(
        group: "", version: "v1", resource: "events", singular: "event", kind: "Event", namespaced: true,
        shortNames: ["ev"], subresources: [], allowCreateOnUpdate: true)
    public static let leases = KubernetesResourceType(
        group: "coordination.k8s.io", version: "v1", resource: "leases", singular: "lease", kind: "Lease",
        namespaced: true, shortNames: [], subresources: [], allowCreateOnUpdate: true)
    public static let events = KubernetesResourceType(
        group: "events.k8s.io", version: "v1", resource: "events", singular: "event", kind: "Event", namespaced: true,
        shortNames: ["ev"], subresources: [], allowCreateOnUpdate: true)

    /// Everything served, in discovery order.
    public static let all: [KubernetesResourceType] = [.namespaces, .nodes, .coreEvents, .leases, .events]

    /// Where objects are kept: core and events.k8s.io events share one store, as in the real API.
    var storageKey: String { resource == "events" ? "events" : "\(group)/\(resource)" }

    /// The resource served at `/api/v1/...` or `/apis/<group>/<version>/...`.
    static func find(group: String, version: String, resource: String) -> KubernetesResourceType? {
        all.first { $0.group == group && $0.version == version && $0.resource == resource }
    }
}

/// Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`), in the
/// legacy (unaggregated) forms every client understands; clients asking for aggregated
/// discovery (`apidiscovery.k8s.io/v2`) fall back to these on a plain `application/json` answer.
enum KubernetesDiscovery {
    static let gitVersion = "v1.32.0"

    static func version(buildDate: String) -> JSONValue {
        ["major": "1", "minor": "32", "gitVersion": .string(gitVersion + "+kubeip-double"),
         "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
         "buildDate": .string(buildDate), "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"]
    }

    static func coreVersions(serverAddress: String) -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    static var groups: [String] {
        var seen: [String] = []
        for type in KubernetesResourceType.all where !type.group.isEmpty && !seen.contains(type.group) {
            seen.append(type.group)
        }
        return seen
    }

    static func group(_ name: String) -> JSONValue? {
        guard groups.contains(name) else { return nil }
        let version: JSONValue = ["groupVersion": .string("\(name)/v1"), "version": "v1"]
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": [version],
                "preferredVersion": version]
    }

    static var groupList: JSONValue {
        var list: [String: JSONValue] = ["kind": "APIGroupList", "apiVersion": "v1"]
        var items: [JSONValue] = []
        for name in groups {
            guard var item = group(name)?.objectValue else { continue }
            item["kind"] = nil
            item["apiVersion"] = nil
            items.append(.object(item))
        }
        list["groups"] = .array(items)
        return .object(list)
    }

    /// The APIResourceList of a group version; nil when none is served there.
    static func resourceList(group: String, version: String) -> JSONValue? {
        let types = KubernetesResourceType.all.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for type in types {
            var entry: [String: JSONValue] = [
                "name": .string(type.resource), "singularName": .string(type.singular),
                "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                "verbs": .array(type.verbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            resources.append(.object(entry))
            for sub in type.subresources {
                resources.append(["name": .string("\(type.resource)/\(sub)"), "singularName": "",
                                  "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                                  "verbs": ["get", "patch", "update"]])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources)]
    }

    /// Group versions as OpenAPI v3 names them: `api/v1`, `apis/coordination.k8s.io/v1`.
    static var openAPIGroupVersions: [String] {
        var seen: [String] = []
        for type in KubernetesResourceType.all {
            let name = type.group.isEmpty ? "api/\(type.version)" : "apis/\(type.group)/\(type.version)"
            if !seen.contains(name) { seen.append(name) }
        }
        return seen
    }

    /// `/openapi/v3`: where each group version's document is.
    static var openAPIRoot: JSONValue {
        var paths: [String: JSONValue] = [:]
        for name in openAPIGroupVersions {
            paths[name] = ["serverRelativeURL": .string("/openapi/v3/\(name)?hash=kubeip-double-1")]
        }
        return ["paths": .object(paths)]
    }

    /// A group version's OpenAPI v3 document, reduced to what kubectl reads: each resource's
    /// PATCH operation with its `x-kubernetes-group-version-kind` and the `fieldValidation`
    /// parameter, so kubectl's `--validate=strict` (the default) leaves validation to the
    /// server instead of downloading schemas. No schemas are served.
    static func openAPIDocument(_ name: String) -> JSONValue? {
        guard openAPIGroupVersions.contains(name) else { return nil }
        var paths: [String: JSONValue] = [:]
        for type in KubernetesResourceType.all {
            let prefix = type.group.isEmpty ? "/api/\(type.version)" : "/apis/\(type.group)/\(type.version)"
            guard prefix == "/\(name)" else { continue }
            let collection = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.resource)" : "\(prefix)/\(type.resource)"
            let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            let operation: JSONValue = [
                "operationId": .string("patch\(type.kind)"),
                "parameters": [["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true],
                                "description": "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields."]],
                "responses": ["200": ["description": "OK"]],
                "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
            ]
            paths["\(collection)/{name}"] = ["patch": operation]
            for sub in type.subresources { paths["\(collection)/{name}/\(sub)"] = ["patch": operation] }
        }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string(gitVersion)],
                "paths": .object(paths), "components": ["schemas": [:]]]
    }
}
