/// A `metav1.Status` body: what the API server says when a call fails.
public struct KubeStatus: Codable, Sendable, Equatable {
    public var kind: String?
    public var apiVersion: String?
    /// `Failure` (or `Success`).
    public var status: String?
    public var message: String?
    /// The machine-readable reason (`AlreadyExists`, `Conflict`, …).
    public var reason: String?
    public var code: Int?
    public var details: Details?

    /// `details`: the object concerned and, for `Invalid`, the fields at fault.
    public struct Details: Codable, Sendable, Equatable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var uid: String?
        public var causes: [Cause]?
        public var retryAfterSeconds: Int?

        public init(name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil,
                    causes: [Cause]? = nil, retryAfterSeconds: Int? = nil) {
            self.name = name
            self.group = group
            self.kind = kind
            self.uid = uid
            self.causes = causes
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    /// One cause: a field and what is wrong with it.
    public struct Cause: Codable, Sendable, Equatable {
        public var reason: String?
        public var message: String?
        public var field: String?

        public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public init(message: String? = nil, reason: String? = nil, code: Int? = nil, details: Details? = nil) {
        self.kind = "Status"
        self.apiVersion = "v1"
        self.status = "Failure"
        self.message = message
        self.reason = reason
        self.code = code
        self.details = details
    }
}
