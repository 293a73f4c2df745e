/// A `v1` Node, as far as kubeip needs it: identity (provider id, labels), taints and addresses.
/// Nodes are only read and patched, never written whole.
public struct Node: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    /// `spec`: the cloud's id for the machine and the taints.
    public struct Spec: Codable, Sendable, Equatable {
        /// `aws:///eu-west-1a/i-0abc…`, `gce://project/zone/name`, …
        public var providerID: String?
        public var taints: [Taint]?

        public init(providerID: String? = nil, taints: [Taint]? = nil) {
            self.providerID = providerID
            self.taints = taints
        }
    }

    /// `status`: the addresses the node reports.
    public struct Status: Codable, Sendable, Equatable {
        public var addresses: [NodeAddress]?

        public init(addresses: [NodeAddress]? = nil) { self.addresses = addresses }
    }

    public init(metadata: ObjectMeta, spec: Spec? = nil, status: Status? = nil) {
        self.apiVersion = "v1"
        self.kind = "Node"
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// A node taint.
public struct Taint: Codable, Sendable, Equatable {
    public var key: String
    public var value: String?
    public var effect: TaintEffect
    /// When a `NoExecute` taint was added.
    public var timeAdded: KubeTime?

    public init(key: String, value: String? = nil, effect: TaintEffect, timeAdded: KubeTime? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }
}

/// A taint's effect: the three Kubernetes knows, and whatever else a newer server sends.
public struct TaintEffect: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let noSchedule = TaintEffect(rawValue: "NoSchedule")
    public static let preferNoSchedule = TaintEffect(rawValue: "PreferNoSchedule")
    public static let noExecute = TaintEffect(rawValue: "NoExecute")

    public var description: String { rawValue }
}

/// One of a node's addresses (`InternalIP`, `ExternalIP`, `Hostname`, …).
public struct NodeAddress: Codable, Sendable, Equatable {
    public var type: String
    public var address: String

    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}
