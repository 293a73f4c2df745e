/// An `events.k8s.io/v1` Event: what kubeip did to a node, for `kubectl describe` and
/// `kubectl events`.
public struct Event: Codable, Sendable, Equatable {
    /// The longest note the API accepts, in UTF-8 bytes.
    public static let maxNoteBytes = 1024

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    /// When it happened (required by the API).
    public var eventTime: MicroTime
    public var series: Series?
    /// `kubeip.io/kubeip` or similar.
    public var reportingController: String?
    /// This daemon (the node name).
    public var reportingInstance: String?
    /// What was done (`Assign`, `Release`), machine-readable.
    public var action: String?
    /// Why (`AddressAssigned`, `PoolExhausted`), machine-readable.
    public var reason: String?
    /// The object it is about (the Node).
    public var regarding: ObjectReference?
    /// Human-readable text, at most ``maxNoteBytes`` UTF-8 bytes.
    public var note: String?
    public var type: EventType?

    /// An event series (the same event seen again).
    public struct Series: Codable, Sendable, Equatable {
        public var count: Int
        public var lastObservedTime: MicroTime

        public init(count: Int, lastObservedTime: MicroTime) {
            self.count = count
            self.lastObservedTime = lastObservedTime
        }
    }

    /// Builds an event; a longer `note` is cut at a character boundary to ``maxNoteBytes`` bytes.
    public init(metadata: ObjectMeta, eventTime: MicroTime, reportingController: String, reportingInstance: String,
                action: String, reason: String, regarding: ObjectReference, note: String? = nil,
                type: EventType = .normal, series: Series? = nil) {
        self.apiVersion = "events.k8s.io/v1"
        self.kind = "Event"
        self.metadata = metadata
        self.eventTime = eventTime
        self.series = series
        self.reportingController = reportingController
        self.reportingInstance = reportingInstance
        self.action = action
        self.reason = reason
        self.regarding = regarding
        self.note = note.map { Event.truncated($0, toBytes: Event.maxNoteBytes) }
        self.type = type
    }

    /// `text` cut to at most `limit` UTF-8 bytes without splitting a character.
    static func truncated(_ text: String, toBytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > limit { break }
            result.append(character)
            used += size
        }
        return result
    }
}

/// `Normal` or `Warning`.
public enum EventType: String, Codable, Sendable {
    case normal = "Normal"
    case warning = "Warning"
}

/// A reference to another object (an event's `regarding`).
public struct ObjectReference: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var name: String?
    public var namespace: String?
    public var uid: String?

    public init(apiVersion: String? = nil, kind: String? = nil, name: String? = nil, namespace: String? = nil,
                uid: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.uid = uid
    }

    /// A reference to `node`.
    public init(node: Node) {
        self.init(apiVersion: "v1", kind: "Node", name: node.metadata.name, uid: node.metadata.uid)
    }
}
