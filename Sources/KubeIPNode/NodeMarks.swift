import KubeIPCore
import KubeIPKube

/// What kubeip writes on its Node, and how it reads the Node back: the startup taint, the
/// `kubeip.com/status` label, the address annotations, the ExternalIP the Node reports, and the
/// signs that the Node is going away.
public enum NodeMarks {
    /// `assigned`, `waiting` or `failed`.
    public static let statusLabel = "kubeip.com/status"
    /// The held IPv4 address.
    public static let ipv4Annotation = "kubeip.com/public-ipv4"
    /// The held IPv6 address (range).
    public static let ipv6Annotation = "kubeip.com/public-ipv6"

    /// The values of ``statusLabel``.
    public enum Status: String, Sendable {
        /// Every configured address is held and the Node reports it.
        case assigned
        /// No address yet: the pool is empty, or every free one went to other nodes first.
        case waiting
        /// kubeip gave up (`retry-attempts`) or stopped on an error: no address will come.
        case failed
    }

    /// Taints that say the Node is being removed: the cluster autoscaler's, Karpenter's (v1 and v1beta1).
    static let removalTaints: [String: String] = [
        "ToBeDeletedByClusterAutoscaler": "the cluster autoscaler is removing it",
        "karpenter.sh/disrupted": "Karpenter is removing it",
        "karpenter.sh/disruption": "Karpenter is removing it",
    ]

    /// The annotation that holds the address of `family`.
    public static func annotation(for family: IPFamily) -> String {
        family == .ipv4 ? ipv4Annotation : ipv6Annotation
    }

    /// Why `node` is going away (being deleted, or drained for removal); nil when it is not.
    public static func goingAway(_ node: Node) -> String? {
        if node.metadata.deletionTimestamp != nil { return "the Node is being deleted" }
        for taint in node.spec?.taints ?? [] {
            if let reason = removalTaints[taint.key] { return "the Node is tainted \(taint.key): \(reason)" }
        }
        return nil
    }

    /// The held addresses the Node does not report as an ExternalIP yet. Only IPv4 addresses
    /// are waited for: a cloud-controller-manager does not report every IPv6 range.
    public static func unreported(_ assignments: [Assignment], by node: Node) -> [Assignment] {
        let external = Set((node.status?.addresses ?? []).filter { $0.type == "ExternalIP" }.map(\.address))
        return assignments.filter { $0.family == .ipv4 && !external.contains($0.address.ip) }
    }

    /// What to do with the startup taint.
    public enum TaintChange: Sendable, Equatable {
        case keep
        /// Remove every taint with this key (whatever its effect).
        case remove(String)
        /// Put this taint back unless one with its key is there (the address was lost).
        case add(Taint)
    }

    /// A patch, conditional on the `resourceVersion` read, that changes the startup taint as
    /// `taint` says, sets the status label to `status` (removes it for nil) and the address
    /// annotations to `held` (removing those of families not held); nil when the Node is that way
    /// already. Every other taint, label and annotation is kept.
    public static func patch(_ node: Node, status: Status?, held: [IPFamily: String], taint: TaintChange) -> JSONPatch? {
        var patch = JSONPatch()
        var changes = 0
        patch.test(["metadata", "resourceVersion"], node.metadata.resourceVersion ?? "")
        let taints = node.spec?.taints ?? []
        switch taint {
        case .keep:
            break
        case .remove(let key):
            for (index, taint) in taints.enumerated().reversed() where taint.key == key {
                patch.remove(JSONPointer("spec", "taints").appending(index: index))
                changes += 1
            }
        case .add(let taint) where !taints.contains(where: { $0.key == taint.key }):
            if node.spec?.taints == nil {
                patch.add(["spec", "taints"], [taint])
            } else {
                patch.add(JSONPointer("spec", "taints", "-"), taint)
            }
            changes += 1
        case .add:
            break
        }
        if status == nil, node.metadata.labels?[statusLabel] != nil {
            patch.remove(["metadata", "labels", statusLabel])
            changes += 1
        } else if let status, node.metadata.labels?[statusLabel] != status.rawValue {
            if node.metadata.labels == nil {
                patch.add(["metadata", "labels"], [statusLabel: status.rawValue])
            } else {
                patch.add(["metadata", "labels", statusLabel], status.rawValue)
            }
            changes += 1
        }
        let current = node.metadata.annotations ?? [:]
        var wanted: [String: String] = [:]
        for (family, ip) in held where current[annotation(for: family)] != ip { wanted[annotation(for: family)] = ip }
        if node.metadata.annotations == nil, !wanted.isEmpty {
            patch.add(["metadata", "annotations"], wanted)
            changes += wanted.count
        } else {
            for (key, value) in wanted.sorted(by: { $0.key < $1.key }) {
                patch.add(["metadata", "annotations", key], value)
                changes += 1
            }
            for family in IPFamily.allCases where held[family] == nil && current[annotation(for: family)] != nil {
                patch.remove(["metadata", "annotations", annotation(for: family)])
                changes += 1
            }
        }
        return changes > 0 ? patch : nil
    }
}
