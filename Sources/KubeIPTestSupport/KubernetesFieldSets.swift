import KubeIPSimulator

/// The fields each served type declares (from the API types' JSON schemas), for the
/// apiserver's unknown-field handling: `fieldValidation=Strict` refuses an object naming a field
/// its type lacks (400 `strict decoding error: unknown field "spec.x"`); `Warn` (the default)
/// and `Ignore` drop such fields, `Warn` with a `Warning: 299` header for each.
enum KubernetesFieldSets {
    static let objectMeta: Set<String> = [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
        "managedFields",
    ]
    static let objectReference: Set<String> = ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"]

    /// Dotted object path (`[]` for each element of a list) → its declared members. Paths not
    /// listed (maps such as labels, and nested types kubeip does not touch) are not checked.
    static func fields(_ type: KubernetesResourceType) -> [String: Set<String>] {
        var fields: [String: Set<String>] = ["metadata": objectMeta]
        switch type {
        case .leases:
            fields[""] = ["apiVersion", "kind", "metadata", "spec"]
            fields["spec"] = ["holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime", "leaseTransitions",
                              "strategy", "preferredHolder"]
        case .nodes:
            fields[""] = ["apiVersion", "kind", "metadata", "spec", "status"]
            fields["spec"] = ["podCIDR", "podCIDRs", "providerID", "unschedulable", "taints", "configSource", "externalID"]
            fields["spec.taints[]"] = ["key", "value", "effect", "timeAdded"]
            fields["status"] = ["capacity", "allocatable", "phase", "conditions", "addresses", "daemonEndpoints", "nodeInfo",
                                "images", "volumesInUse", "volumesAttached", "config", "runtimeHandlers", "features",
                                "declaredFeatures"]
            fields["status.addresses[]"] = ["type", "address"]
            fields["status.conditions[]"] = ["type", "status", "lastHeartbeatTime", "lastTransitionTime", "reason", "message"]
        case .namespaces:
            fields[""] = ["apiVersion", "kind", "metadata", "spec", "status"]
        case .events:
            fields[""] = ["apiVersion", "kind", "metadata", "eventTime", "series", "reportingController", "reportingInstance",
                          "action", "reason", "regarding", "related", "note", "type", "deprecatedSource",
                          "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"]
            fields["regarding"] = objectReference
            fields["related"] = objectReference
            fields["series"] = ["count", "lastObservedTime"]
            fields["deprecatedSource"] = ["component", "host"]
        case .coreEvents:
            fields[""] = ["apiVersion", "kind", "metadata", "involvedObject", "reason", "message", "source", "firstTimestamp",
                          "lastTimestamp", "count", "type", "eventTime", "series", "action", "related", "reportingComponent",
                          "reportingInstance"]
            fields["involvedObject"] = objectReference
            fields["related"] = objectReference
            fields["series"] = ["count", "lastObservedTime"]
            fields["source"] = ["component", "host"]
        default:
            break
        }
        return fields
    }

    /// The unknown fields of `object` (dotted, with list indexes as Go's strict decoder names
    /// them: `spec.taints[0].colour`), and the object without them.
    static func unknownFields(_ object: JSONValue, type: KubernetesResourceType) -> ([String], JSONValue) {
        let declared = fields(type)
        var unknown: [String] = []
        func walk(_ value: JSONValue, schemaPath: String, shownPath: String) -> JSONValue {
            switch value {
            case .object(var members):
                if let known = declared[schemaPath] {
                    for key in members.keys.sorted() where !known.contains(key) {
                        unknown.append(shownPath.isEmpty ? key : "\(shownPath).\(key)")
                        members[key] = nil
                    }
                }
                for (key, member) in members {
                    let childSchema = schemaPath.isEmpty ? key : "\(schemaPath).\(key)"
                    let childShown = shownPath.isEmpty ? key : "\(shownPath).\(key)"
                    members[key] = walk(member, schemaPath: childSchema, shownPath: childShown)
                }
                return .object(members)
            case .array(let items):
                return .array(items.enumerated().map { index, item in
                    walk(item, schemaPath: "\(schemaPath)[]", shownPath: "\(shownPath)[\(index)]")
                })
            default:
                return value
            }
        }
        let cleaned = walk(object, schemaPath: "", shownPath: "")
        return (unknown.sorted(), cleaned)
    }
}
