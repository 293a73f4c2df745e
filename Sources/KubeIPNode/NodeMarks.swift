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

    /// A patch, conditional on the `resourceVersion` read, that removes every taint keyed
    /// `taintKey`, sets the status label to `status` (removes it for nil) and the address
    /// annotations to `held` (removing those of families not held); nil when the Node is that way
    /// already. Every other taint, label and annotation is kept.
    public static func patch(_ node: Node, status: Status?, held: [IPFamily: String], taintKey: String?) -> JSONPatch? {
        var patch = JSONPatch()
        var changes = 0
        patch.test(["metadata", "resourceVersion"], node.metadata.resourceVersion ?? "")
        if let taintKey, let taints = node.spec?.taints {
            for (index, taint) in taints.enumerated().reversed() where taint.key == taintKey {
                patch.remove(JSONPointer("spec", "taints").appending(index: index))
                changes += 1
            }
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
