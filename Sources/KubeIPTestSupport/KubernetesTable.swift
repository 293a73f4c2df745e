import KubeIPSimulator
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The server-side printing kubectl asks for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`):
/// a `meta.k8s.io/v1` Table with the columns of the apiserver's printers
/// (`pkg/printers/internalversion/printers.go`) for the resources the double serves.
enum KubernetesTable {
    struct Column {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var description = ""
    }

    static func columns(_ type: KubernetesResourceType) -> [Column] {
        let name = Column(name: "Name", format: "name",
                          description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
        let age = Column(name: "Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata")
        switch type.resource {
        case "nodes":
            return [name, Column(name: "Status", description: "The status of the node"),
                    Column(name: "Roles", description: "The roles of the node"), age,
                    Column(name: "Version", description: "Kubelet Version reported by the node."),
                    Column(name: "Internal-IP", priority: 1, description: "List of addresses reachable to the node. Queried from cloud provider, if available."),
                    Column(name: "External-IP", priority: 1, description: "List of addresses reachable to the node. Queried from cloud provider, if available."),
                    Column(name: "OS-Image", priority: 1, description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
                    Column(name: "Kernel-Version", priority: 1, description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
                    Column(name: "Container-Runtime", priority: 1, description: "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).")]
        case "leases":
            return [name, Column(name: "Holder", description: "holderIdentity contains the identity of the holder of a current lease."), age]
        case "namespaces":
            return [name, Column(name: "Status", description: "The status of the namespace"), age]
        case "events":
            return [Column(name: "Last Seen", description: "Time when this Event was last observed."),
                    Column(name: "Type", description: "Type of this event (Normal, Warning), new types could be added in the future."),
                    Column(name: "Reason", description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
                    Column(name: "Object", description: "The object that this event is about."),
                    Column(name: "Message", description: "A human-readable description of the status of this operation.")]
        default:
            return [name, age]
        }
    }

    /// A Table of `objects` (stored, core form), with `metadata` for the list.
    static func table(_ objects: [JSONValue], type: KubernetesResourceType, now: Date, metadata: JSONValue,
                      includeObject: String, external: (JSONValue) -> JSONValue) -> JSONValue {
        let definitions: [JSONValue] = columns(type).map { column in
            ["name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
             "description": .string(column.description), "priority": .number(Double(column.priority))]
        }
        let rows: [JSONValue] = objects.map { object in
            var row: [String: JSONValue] = ["cells": .array(cells(object, type: type, now: now).map { .string($0) })]
            switch includeObject {
            case "None": break
            case "Object": row["object"] = external(object)
            default:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": object["metadata"] ?? [:]]
            }
            return .object(row)
        }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
                "columnDefinitions": .array(definitions), "rows": .array(rows)]
    }

    static func cells(_ object: JSONValue, type: KubernetesResourceType, now: Date) -> [String] {
        let name = object.string(at: ["metadata", "name"])
        let age = since(object.string(at: ["metadata", "creationTimestamp"]), now: now)
        switch type.resource {
        case "nodes":
            let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
            var status = "Unknown"
            if let ready = conditions.first(where: { $0["type"] == "Ready" }) {
                status = ready["status"] == "True" ? "Ready" : "NotReady"
            }
            if object[path: ["spec", "unschedulable"]] == .bool(true) { status += ",SchedulingDisabled" }
            let labels = object[path: ["metadata", "labels"]]?.stringMap ?? [:]
            var roles = labels.keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }
                .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.filter { !$0.isEmpty }
            if let role = labels["kubernetes.io/role"], !role.isEmpty { roles.append(role) }
            let addresses = object[path: ["status", "addresses"]]?.arrayValue ?? []
            func address(_ kind: String) -> String {
                addresses.first { $0["type"]?.stringValue == kind }?["address"]?.stringValue ?? "<none>"
            }
            let info = object[path: ["status", "nodeInfo"]]
            func field(_ key: String) -> String {
                let value = info?[key]?.stringValue ?? ""
                return value.isEmpty ? "<unknown>" : value
            }
            return [name, status, roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ","), age,
                    info?["kubeletVersion"]?.stringValue ?? "", address("InternalIP"), address("ExternalIP"),
                    field("osImage"), field("kernelVersion"), field("containerRuntimeVersion")]
        case "leases":
            let holder = object.string(at: ["spec", "holderIdentity"])
            return [name, holder.isEmpty ? "<unknown>" : holder, age]
        case "namespaces":
            return [name, object.string(at: ["status", "phase"]), age]
        case "events":
            let last = [object.string(at: ["series", "lastObservedTime"]), object.string(at: ["lastTimestamp"]),
                        object.string(at: ["eventTime"]), object.string(at: ["metadata", "creationTimestamp"])]
                .first { !$0.isEmpty } ?? ""
            let kind = object.string(at: ["involvedObject", "kind"]).lowercased()
            let target = object.string(at: ["involvedObject", "name"])
            return [since(last, now: now), object.string(at: ["type"]), object.string(at: ["reason"]),
                    kind.isEmpty ? target : "\(kind)/\(target)", object.string(at: ["message"])]
        default:
            return [name, age]
        }
    }

    /// `translateTimestampSince`: `duration.HumanDuration` of the time since `timestamp`.
    static func since(_ timestamp: String, now: Date) -> String {
        guard !timestamp.isEmpty else { return "<unknown>" }
        let date = (try? KubernetesTime.parseTime(timestamp)) ?? (try? KubernetesTime.parseMicroTime(timestamp))
        guard let date else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(date))
    }

    /// apimachinery's `duration.HumanDuration`.
    static func humanDuration(_ interval: Double) -> String {
        let seconds = Int(interval.rounded(.down))
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 60 * 2 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 {
            let rest = seconds % 60
            return rest == 0 ? "\(minutes)m" : "\(minutes)m\(rest)s"
        }
        if minutes < 60 * 3 { return "\(minutes)m" }
        let hours = seconds / 3600
        if hours < 8 {
            let rest = minutes % 60
            return rest == 0 ? "\(hours)h" : "\(hours)h\(rest)m"
        }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 {
            let rest = hours % 24
            return rest == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(rest)h"
        }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let days = (hours / 24) % 365
            return days == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(days)d"
        }
        return "\(hours / 24 / 365)y"
    }
}
