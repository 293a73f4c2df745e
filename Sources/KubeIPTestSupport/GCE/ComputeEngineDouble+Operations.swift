#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ComputeEngineDouble {
    /// Completes, in order, every operation whose due time has passed, applying its change.
    func completeDueOperations() {
        let now = clock.now
        let due = operations.values
            .filter { $0.operation.status != "DONE" && $0.operation.dueTime <= now }
            .sorted { ($0.operation.dueTime, $0.sequence) < ($1.operation.dueTime, $1.sequence) }
        for record in due {
            let errors = apply(record.change)
            var operation = record.operation
            operation.status = "DONE"
            operation.endTime = now
            operation.errors = errors
            if !errors.isEmpty {
                operation.httpErrorStatusCode = errors.first?.code == "RESOURCE_NOT_FOUND" ? 404 : 400
                operation.httpErrorMessage = errors.first?.code == "RESOURCE_NOT_FOUND" ? "NOT FOUND" : "BAD REQUEST"
            }
            operations[operation.name]?.operation = operation
        }
    }

    private func notFound(_ instance: String) -> [GCEOperationError] {
        [GCEOperationError(code: "RESOURCE_NOT_FOUND",
                           message: "The resource 'projects/\(configuration.projectID)/instances/\(instance)' was not found")]
    }

    private func inUse(_ ip: String) -> [GCEOperationError] {
        [GCEOperationError(code: "IP_IN_USE_BY_ANOTHER_RESOURCE",
                           message: "IP '\(ip)' is already being used by another resource.")]
    }

    /// Whether the reserved address `name` is held by anyone but `selfLink`.
    private func heldElsewhere(_ name: String?, than selfLink: String) -> Bool {
        guard let name, let address = addresses[name] else { return false }
        return address.status == "IN_USE" && address.users != [selfLink]
    }

    private func take(_ name: String?, for selfLink: String) {
        guard let name else { return }
        addresses[name]?.status = "IN_USE"
        addresses[name]?.users = [selfLink]
    }

    /// Applies a completed operation's change; answers the operation's errors.
    private func apply(_ change: PendingChange) -> [GCEOperationError] {
        switch change {
        case .addAccessConfig(let name, var config, let addressName):
            guard var instance = instances[name] else { return notFound(name) }
            let ipv6 = config.type == "DIRECT_IPV6"
            let existing = ipv6 ? instance.nic0.ipv6AccessConfigs : instance.nic0.accessConfigs
            guard existing.isEmpty else {
                return [GCEOperationError(code: "INVALID_USAGE",
                                          message: "The network interface already has an access config of type \(config.type).")]
            }
            if heldElsewhere(addressName, than: instance.selfLink) { return inUse(config.ip ?? "") }
            if config.isEphemeral {
                if ipv6 { config.externalIpv6 = nextEphemeralIPv6() } else { config.natIP = nextEphemeralIPv4() }
            }
            if ipv6 { instance.nic0.ipv6AccessConfigs = [config] } else { instance.nic0.accessConfigs = [config] }
            instance.nic0.fingerprint = nextFingerprint()
            instances[name] = instance
            take(addressName, for: instance.selfLink)
            return []

        case .deleteAccessConfig(let name, let configName):
            guard var instance = instances[name] else { return notFound(name) }
            let removed: GCEAccessConfig
            if let index = instance.nic0.accessConfigs.firstIndex(where: { $0.name == configName }) {
                removed = instance.nic0.accessConfigs.remove(at: index)
            } else if let index = instance.nic0.ipv6AccessConfigs.firstIndex(where: { $0.name == configName }) {
                removed = instance.nic0.ipv6AccessConfigs.remove(at: index)
            } else {
                return [GCEOperationError(code: "INVALID_USAGE",
                                          message: "The network interface has no access config named '\(configName)'.")]
            }
            instance.nic0.fingerprint = nextFingerprint()
            instances[name] = instance
            if !removed.isEphemeral { release(ip: removed.ip) }
            if removed.type == "ONE_TO_ONE_NAT", let gap = configuration.connectivityGap {
                startConnectivityGap(for: name, gap)
            }
            return []

        case .updateNetworkInterface(let name, let ipv6, let stackType, let aliasIpRanges):
            guard var instance = instances[name] else { return notFound(name) }
            if let ipv6 {
                for entry in ipv6 where heldElsewhere(entry.addressName, than: instance.selfLink) {
                    return inUse(entry.config.ip ?? "")
                }
                let kept = Set(ipv6.compactMap { $0.config.externalIpv6 })
                for old in instance.nic0.ipv6AccessConfigs where !old.isEphemeral && !kept.contains(old.externalIpv6 ?? "") {
                    release(ip: old.ip)
                }
                instance.nic0.ipv6AccessConfigs = ipv6.map { entry in
                    var config = entry.config
                    if config.externalIpv6 == nil { config.externalIpv6 = nextEphemeralIPv6() }
                    return config
                }
                for entry in ipv6 { take(entry.addressName, for: instance.selfLink) }
            }
            if let stackType { instance.nic0.stackType = stackType }
            if let aliasIpRanges { instance.nic0.aliasIpRanges = aliasIpRanges }
            instance.nic0.fingerprint = nextFingerprint()
            instances[name] = instance
            return []
        }
    }
}
