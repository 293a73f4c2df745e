import KubeIPSimulator

/// core/v1 and events.k8s.io/v1 Events are one stored object in two representations (the
/// real conversion in `pkg/apis/events/v1/conversion.go`); the double stores the core form.
enum KubernetesEventConversion {
    /// events.k8s.io/v1 member → core/v1 member.
    static let renames: [(String, String)] = [
        ("reportingController", "reportingComponent"), ("regarding", "involvedObject"), ("note", "message"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]

    /// An events.k8s.io/v1 Event in core/v1 form.
    static func toCore(_ event: JSONValue) -> JSONValue {
        var members = event.objectValue ?? [:]
        for (from, to) in renames {
            members[to] = members.removeValue(forKey: from)
        }
        members["apiVersion"] = "v1"
        members["kind"] = "Event"
        return .object(members)
    }

    /// A core/v1 Event in events.k8s.io/v1 form.
    static func toEventsV1(_ event: JSONValue) -> JSONValue {
        var members = event.objectValue ?? [:]
        for (to, from) in renames {
            members[to] = members.removeValue(forKey: from)
        }
        if members["deprecatedCount"]?.intValue == 0 { members["deprecatedCount"] = nil }
        if let source = members["deprecatedSource"], source == [:] { members["deprecatedSource"] = nil }
        members["apiVersion"] = "events.k8s.io/v1"
        members["kind"] = "Event"
        return .object(members)
    }
}
