/// The part of `metav1.ObjectMeta` kubeip reads and writes. Absent fields stay absent on output.
public struct ObjectMeta: Codable, Sendable, Equatable {
    public var name: String?
    /// A prefix the server completes with a random suffix (events), when `name` is empty.
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    /// The version an update or a precondition must match (optimistic concurrency).
    public var resourceVersion: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    /// Set when the object is being deleted.
    public var deletionTimestamp: KubeTime?

    public init(name: String? = nil, generateName: String? = nil, namespace: String? = nil, uid: String? = nil,
                resourceVersion: String? = nil, labels: [String: String]? = nil,
                annotations: [String: String]? = nil, deletionTimestamp: KubeTime? = nil) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.labels = labels
        self.annotations = annotations
        self.deletionTimestamp = deletionTimestamp
    }
}
