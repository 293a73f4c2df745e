import KubeIPCore
import Logging

/// The pool of reserved external addresses the filter selects in the instance's region, with
/// the access-config swap of nic0 as the claim.
///
/// Compute Engine has no conditional "attach if free": an address is attached by replacing
/// nic0's access config, and the API refuses an address IN_USE elsewhere (the operation fails
/// with IP_IN_USE_BY_ANOTHER_RESOURCE), which is the compare-and-set kubeip relies on.
///
/// A first IPv4 assignment costs 8 Compute calls (6 when operations come back DONE at once):
/// addresses.list (engine), then in ``attach(_:to:)`` addresses.get (still RESERVED?),
/// instances.get (the current access config), deleteAccessConfig + zoneOperations.wait,
/// addAccessConfig + zoneOperations.wait, and the engine's read-back (one filtered
/// addresses.list); plus, once per process before the first delete,
/// addresses.testIamPermissions (may kubeip use the address?) and subnetworks.get (can the VM
/// reach the API without an external address?). Each lost race costs addresses.get +
/// addAccessConfig + wait: the emptied interface is not read nor emptied again. A round that
/// ends without an address reads nic0 once more, and puts an access config back if it has
/// none. An address already held (a restart) is adopted with the one list. The access token
/// (one metadata read) is cached.
///
/// IPv6 goes the same way with updateNetworkInterface (which needs nic0's current
/// fingerprint, so the instance is read again after the delete): 9 calls when nic0 had an
/// ephemeral IPv6 range (and the permission check once), 6 when it had none.
public actor GCPAddressPool: AddressPool {
    /// The user's filter.
    public nonisolated let filter: GCPFilter
    /// The `order-by` setting, passed to addresses.list as it is.
    public nonisolated let orderBy: String?
    let compute: ComputeClient
    /// The same client, retrying longer: used for every mutation, as a swap may briefly cut
    /// the instance off the API (its external address is gone until the new one is on).
    let swapCompute: ComputeClient
    /// The same client, retrying once: for the advisory checks before the first delete.
    let probeCompute: ComputeClient
    let logger: Logger
    /// Re-reads of the instance after a stale fingerprint (412) before giving up.
    let fingerprintRetries = 3

    /// Families whose access config kubeip removed from nic0 and has not replaced yet.
    private var emptied: Set<IPFamily> = []
    /// The access config kubeip removed per family (name, address, tier) and has not yet
    /// replaced, to put the same one back when no pool address could be attached.
    private var removed: [IPFamily: Compute.AccessConfig] = [:]
    /// nic0's subnetwork as last read (`projects/<p>/regions/<r>/subnetworks/<name>`), for messages.
    private var subnetwork: String?
    /// Whether nic0's subnet was checked for Private Google Access (once, before the first IPv4 delete).
    private var egressChecked = false
    /// Whether compute.addresses.use was found granted, or could not be checked (once, before the first delete).
    private var addressUseChecked = false

    /// The default name of an IPv4 access config.
    public static let ipv4ConfigName = "External NAT"
    /// The recommended name of an IPv6 access config.
    public static let ipv6ConfigName = "External IPv6"

    /// A pool over `compute`. `swapBackoff` paces the retries of mutations (about a minute by default).
    public init(compute: ComputeClient, filter: GCPFilter, orderBy: String?,
                swapBackoff: Backoff = Backoff(initial: .seconds(1), multiplier: 2, cap: .seconds(10), maxRetries: 10),
                logger: Logger = Logger(label: "kubeip.gcp")) {
        self.compute = compute
        self.swapCompute = compute.with(backoff: swapBackoff)
        self.probeCompute = compute.with(backoff: Backoff(maxRetries: 1))
        self.filter = filter
        self.orderBy = orderBy.flatMap { $0.trimmedWhitespace.isEmpty ? nil : $0.trimmedWhitespace }
        self.logger = logger
    }

    // MARK: Identity parts

    /// `projects/<project>/zones/<zone>/instances/<name>`: how an instance is named as a holder.
    public static func interfaceID(project: String, zone: String, instance: String) -> String {
        "projects/\(project)/zones/\(zone)/instances/\(instance)"
    }

    struct Target {
        var project: String
        var region: String
        var zone: String
        var instance: String
    }

    static func target(_ identity: InstanceIdentity) throws -> Target {
        let parts = identity.interfaceID.split(separator: "/").map(String.init)
        let name = parts.count == 6 && parts[4] == "instances" ? parts[5] : identity.name
        guard let project = identity.project ?? (parts.count == 6 ? parts[1] : nil), let name else {
            throw KubeIPError(.identity, "the instance identity lacks a project or instance name (\(identity.interfaceID))")
        }
        return Target(project: project, region: identity.region, zone: identity.zone, instance: name)
    }

    // MARK: Reading the pool

    public func addresses(family: IPFamily, for identity: InstanceIdentity) async throws -> [PoolAddress] {
        let target = try Self.target(identity)
        let items = try await compute.listAddresses(project: target.project, region: target.region,
                                                    filter: filter.apiFilter(family: family), orderBy: orderBy)
        return items.compactMap { Self.poolAddress($0, family: family) }
    }

    /// One filtered addresses.list naming the address: nil when it is gone or no longer matches
    /// the filter, exactly as the server evaluates it (the regular-expression dialect, which
    /// cannot name a second field, lists the pool instead).
    public func address(id: String, family: IPFamily, for identity: InstanceIdentity) async throws -> PoolAddress? {
        let target = try Self.target(identity)
        guard let named = filter.apiFilter(family: family, name: id) else {
            return try await addresses(family: family, for: identity).first { $0.id == id }
        }
        let items = try await compute.listAddresses(project: target.project, region: target.region, filter: named, orderBy: nil)
        return items.lazy.compactMap { Self.poolAddress($0, family: family) }.first { $0.id == id }
    }

    /// Maps an API address; nil when it is not an external address of `family`.
    ///
    /// IPv4 is every version but `IPV6` (absent and `UNSPECIFIED_VERSION` included), as the
    /// server-side `(ipVersion != "IPV6")` selects. An IPv6 range counts only when it is for
    /// a VM (`ipv6EndpointType` `VM`, or absent): a `NETLB` range cannot go on an interface.
    /// That is checked here rather than in the API filter, where a comparison would drop the
    /// ranges that omit the field, at no cost (the answer is the same page either way).
    static func poolAddress(_ address: Compute.Address, family: IPFamily) -> PoolAddress? {
        guard let name = address.name, !name.isEmpty, let ip = address.address, !ip.isEmpty else { return nil }
        guard (address.addressType ?? "EXTERNAL") == "EXTERNAL" else { return nil }
        let isIPv6 = address.ipVersion == "IPV6"
        guard isIPv6 == (family == .ipv6) else { return nil }
        if isIPv6, let endpoint = address.ipv6EndpointType, endpoint != "VM" { return nil }
        var fields: [String: String] = ["name": name, "address": ip]
        let scalars: [(String, String?)] = [
            ("creationTimestamp", address.creationTimestamp), ("status", address.status),
            ("addressType", address.addressType), ("ipVersion", address.ipVersion), ("networkTier", address.networkTier),
            ("prefixLength", address.prefixLength.map(String.init)), ("id", address.id),
        ]
        for case let (key, value?) in scalars where !value.isEmpty { fields[key] = value }
        for (key, value) in address.labels ?? [:] { fields["labels.\(key)"] = value }
        return PoolAddress(id: name, ip: ip, family: family, holder: holder(of: address), fields: fields)
    }

    /// Who uses the address: nil when RESERVED; else its first user's self-link from `projects/` on.
    static func holder(of address: Compute.Address) -> AddressHolder? {
        let users = address.users ?? []
        let status = address.status ?? (users.isEmpty ? "RESERVED" : "IN_USE")
        guard status != "RESERVED" else { return nil }
        guard let user = users.first else { return AddressHolder(interfaceID: "unknown (\(status))") }
        let path = resourcePath(user) ?? user
        let parts = path.split(separator: "/")
        let instance = parts.count == 6 && parts[4] == "instances" ? String(parts[5]) : nil
        return AddressHolder(interfaceID: path, instanceID: instance)
    }

    // MARK: Claiming

    public func attach(_ address: PoolAddress, to identity: InstanceIdentity) async throws {
        let target = try Self.target(identity)
        // With nic0 emptied by a lost race, this instance may be cut off the API for a while.
        let reader = emptied.contains(address.family) ? swapCompute : compute
        let current: Compute.Address
        do {
            current = try await reader.getAddress(project: target.project, region: target.region, name: address.id)
        } catch let error as KubeIPError where error.code == .notFound {
            throw KubeIPError(.conflict, "\(address.ip) (\(address.id)) no longer exists", resource: address.id)
        }
        let ip = current.address ?? address.ip
        if let holder = Self.holder(of: current) {
            if holder.interfaceID == identity.interfaceID { return }
            throw KubeIPError(.conflict, "\(ip) (\(address.id)) is \(current.status ?? "in use"), used by \(holder.interfaceID)",
                              resource: address.id)
        }
        switch address.family {
        case .ipv4: try await attachIPv4(ip, current, target)
        case .ipv6: try await attachIPv6(ip, current, target)
        }
    }

    private func attachIPv4(_ ip: String, _ address: Compute.Address, _ target: Target) async throws {
        if !emptied.contains(.ipv4) {
            let nic = try await primaryInterface(target)
            if let config = nic.accessConfigs?.first(where: Self.isIPv4) {
                if config.natIP == ip { return }
                try await checkAddressUse(address, target)
                await checkEgress(nic, target)
                try await remove(config, family: .ipv4, target, replacing: ip)
            }
            emptied.insert(.ipv4)
        }
        let config = Compute.AccessConfig(type: "ONE_TO_ONE_NAT", name: Self.ipv4ConfigName, natIP: ip,
                                          networkTier: address.networkTier)
        do {
            try await swapCompute.addAccessConfig(project: target.project, zone: target.zone, instance: target.instance,
                                                  config: config)
        } catch let error as KubeIPError where ComputeError.isAccessConfigTaken(error) {
            // nic0 has an access config already: an earlier try whose answer was lost, or someone else's.
            emptied.remove(.ipv4)
            let nic = try await primaryInterface(target)
            if nic.accessConfigs?.contains(where: { Self.isIPv4($0) && $0.natIP == ip }) == true {
                removed[.ipv4] = nil
                return
            }
            throw KubeIPError(.conflict, "nic0 of \(target.instance) got another access config while \(ip) was being attached",
                              resource: address.name)
        }
        emptied.remove(.ipv4)
        removed[.ipv4] = nil
    }

    private func attachIPv6(_ ip: String, _ address: Compute.Address, _ target: Target) async throws {
        var nic = try await primaryInterface(target)
        if nic.stackType == "IPV4_ONLY" {
            throw KubeIPError.invalid("ip-families",
                                      "nic0 of \(target.instance) is IPv4 only (stackType IPV4_ONLY) and cannot take an IPv6 address; claim ipv4 only or make the interface dual stack")
        }
        if let config = nic.ipv6AccessConfigs?.first {
            if config.externalIpv6 == ip { return }
            try await checkAddressUse(address, target)
            try await remove(config, family: .ipv6, target, replacing: ip)
            nic = try await primaryInterface(target)
        }
        let config = Compute.AccessConfig(type: "DIRECT_IPV6", name: removed[.ipv6]?.name ?? Self.ipv6ConfigName,
                                          externalIpv6: ip, externalIpv6PrefixLength: address.prefixLength ?? 96,
                                          networkTier: address.networkTier)
        do {
            try await updateIPv6(config, nic: nic, target)
        } catch let error as KubeIPError where ComputeError.isAccessConfigTaken(error) {
            let nic = try await primaryInterface(target)
            if nic.ipv6AccessConfigs?.contains(where: { $0.externalIpv6 == ip }) == true {
                emptied.remove(.ipv6)
                removed[.ipv6] = nil
                return
            }
            throw KubeIPError(.conflict, "nic0 of \(target.instance) got another IPv6 access config while \(ip) was being attached",
                              resource: address.name)
        }
        emptied.remove(.ipv6)
        removed[.ipv6] = nil
    }

    /// updateNetworkInterface with `config` as the only IPv6 access config; a stale fingerprint
    /// reads the instance again (bounded).
    private func updateIPv6(_ config: Compute.AccessConfig, nic: Compute.NetworkInterface, _ target: Target) async throws {
        var current = nic
        var stale = 0
        while true {
            let body = Compute.NetworkInterface(fingerprint: current.fingerprint, ipv6AccessConfigs: [config])
            do {
                try await swapCompute.updateNetworkInterface(project: target.project, zone: target.zone,
                                                             instance: target.instance, networkInterface: current.name ?? "nic0",
                                                             body: body)
                return
            } catch let error as GCPStaleFingerprint {
                stale += 1
                guard stale <= fingerprintRetries else {
                    throw KubeIPError(.unavailable, "\(error.description), \(stale) times in a row", resource: error.resource)
                }
                logger.debug("stale fingerprint, reading the instance again", metadata: ["instance": "\(target.instance)"])
                current = try await primaryInterface(target)
            }
        }
    }

    // MARK: Checks before the first delete

    /// Once per process, before nic0's IPv4 access config is first deleted: whether its subnet
    /// lets the VM reach the Compute API without an external address. Without Private Google
    /// Access it can only through Cloud NAT (which cannot be checked cheaply), so this warns and
    /// goes on. A subnet it cannot read (no compute.subnetworks.get, a shared VPC's host project,
    /// an endpoint without the method) is unknown: nothing is said above debug level.
    private func checkEgress(_ nic: Compute.NetworkInterface, _ target: Target) async {
        guard !egressChecked else { return }
        egressChecked = true
        guard let link = nic.subnetwork, let path = Self.resourcePath(link) else { return }
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count == 6, parts[2] == "regions", parts[4] == "subnetworks" else { return }
        let subnet: Compute.Subnetwork
        do {
            subnet = try await probeCompute.getSubnetwork(project: parts[1], region: parts[3], name: parts[5])
        } catch {
            let level: Logger.Level = (error as? KubeIPError)?.code == .permissionDenied ? .info : .debug
            logger.log(level: level, "cannot tell whether the subnet has Private Google Access (kubeip needs compute.subnetworks.get to check)",
                       metadata: ["subnet": "\(path)", "error": "\(error)"])
            return
        }
        if subnet.privateIpGoogleAccess == true {
            logger.debug("the subnet has Private Google Access", metadata: ["subnet": "\(path)"])
            return
        }
        logger.warning("the VM will reach the Compute API only through Cloud NAT while its external IP is swapped; enable Private Google Access on \(path) to be safe",
                       metadata: ["subnet": "\(path)", "instance": "\(target.instance)"])
    }

    /// Before the first delete (until it passes): whether kubeip may use the address it is
    /// about to attach (compute.addresses.use, one addresses.testIamPermissions), so that a
    /// missing grant refuses before nic0 loses its address rather than after. A check that
    /// cannot be made (the method missing, any error) lets the swap go on.
    private func checkAddressUse(_ address: Compute.Address, _ target: Target) async throws {
        guard !addressUseChecked, let name = address.name else { return }
        let permission = "compute.addresses.use"
        let granted: [String]
        do {
            granted = try await probeCompute.testAddressPermissions(project: target.project, region: target.region, name: name,
                                                                    permissions: [permission])
        } catch {
            logger.debug("cannot check compute.addresses.use beforehand", metadata: ["address": "\(name)", "error": "\(error)"])
            addressUseChecked = true
            return
        }
        guard granted.contains(permission) else {
            throw KubeIPError(.permissionDenied,
                              "kubeip's service account may not use address \(name) (\(address.address ?? "?")): grant the IAM permission \(permission); nic0 of \(target.instance) was left as it is",
                              resource: permission)
        }
        addressUseChecked = true
    }

    // MARK: Swapping

    /// Deletes nic0's access config of `family` (gone already counts as done). From the call
    /// on, nic0 counts as emptied, and `config` as the one to put back (without its address
    /// when it is released, `ip` nil): a delete whose answer was lost (the instance cut off the
    /// API by it) may well have happened.
    private func remove(_ config: Compute.AccessConfig, family: IPFamily, _ target: Target, replacing ip: String?) async throws {
        let name = config.name ?? (family == .ipv4 ? Self.ipv4ConfigName : Self.ipv6ConfigName)
        let releasing = ip == nil
        emptied.insert(family)
        removed[family] = Compute.AccessConfig(type: config.type ?? (family == .ipv4 ? "ONE_TO_ONE_NAT" : "DIRECT_IPV6"),
                                               name: name, natIP: releasing ? nil : config.natIP,
                                               externalIpv6: releasing ? nil : config.externalIpv6,
                                               externalIpv6PrefixLength: releasing ? nil : config.externalIpv6PrefixLength,
                                               networkTier: config.networkTier)
        logger.info(ip == nil ? "removing the static external address" : "replacing the external address",
                    metadata: ["current": "\(config.natIP ?? config.externalIpv6 ?? "none")", "access_config": "\(name)",
                               "new": "\(ip ?? "ephemeral")", "instance": "\(target.instance)"])
        do {
            try await swapCompute.deleteAccessConfig(project: target.project, zone: target.zone, instance: target.instance,
                                                     accessConfig: name)
        } catch let error as KubeIPError
                    where error.code == .notFound || error.message.lowercased().contains("no access config") {
            logger.debug("access config already gone", metadata: ["access_config": "\(name)"])
        }
    }

    // MARK: Ending a round, releasing

    /// Runs `body` (the engine trying candidates) as one claim round, and closes the round:
    /// when no address was attached (or `body` threw), puts an access config back on nic0 if
    /// kubeip removed one (see ``closeRound(family:for:)``), so the instance keeps an external
    /// address. An error while closing after `body` threw is logged; `body`'s error is the cause.
    public func claimRound(family: IPFamily, for identity: InstanceIdentity,
                           _ body: @Sendable () async throws -> PoolAddress?) async throws -> PoolAddress? {
        let attached: PoolAddress?
        do {
            attached = try await body()
        } catch {
            do {
                try await closeRound(family: family, for: identity)
            } catch let cleanup {
                logger.error("could not end the claim round cleanly", metadata: ["error": "\(cleanup)"])
            }
            throw error
        }
        if attached == nil { try await closeRound(family: family, for: identity) }
        return attached
    }

    /// After a round that attached nothing: puts an access config back on nic0 if kubeip removed one
    /// (IPv4: if nic0 has none at all, whoever removed it), so the instance keeps an external
    /// address: the address it had first, when kubeip removed one with an address (a static
    /// address can be taken again), else or then a new ephemeral one. For IPv4 it always reads
    /// the instance (one instances.get): what this process last saw of nic0 may no longer be true.
    func closeRound(family: IPFamily, for identity: InstanceIdentity) async throws {
        let target = try Self.target(identity)
        switch family {
        case .ipv4:
            let nic: Compute.NetworkInterface
            if emptied.contains(.ipv4) {
                // kubeip emptied nic0: the instance may be cut off the API, so read with the swap's patience.
                do {
                    nic = try await primaryInterface(target, using: swapCompute)
                } catch let error as KubeIPError {
                    throw stranded(.ipv4, target, error)
                }
            } else {
                nic = try await primaryInterface(target)
            }
            if nic.accessConfigs?.contains(where: Self.isIPv4) == true {
                emptied.remove(.ipv4)
                removed[.ipv4] = nil
                return
            }
            try await restoreIPv4(target)
        case .ipv6:
            guard emptied.contains(.ipv6) else { return }
            try await restoreIPv6(target)
        }
    }

    public func detach(_ address: PoolAddress, from identity: InstanceIdentity) async throws {
        let target = try Self.target(identity)
        let nic = try await primaryInterface(target)
        switch address.family {
        case .ipv4:
            guard let config = nic.accessConfigs?.first(where: { Self.isIPv4($0) && $0.natIP == address.ip }) else { return }
            await checkEgress(nic, target)
            try await remove(config, family: .ipv4, target, replacing: nil)
            try await restoreIPv4(target)
        case .ipv6:
            guard let config = nic.ipv6AccessConfigs?.first(where: { $0.externalIpv6 == address.ip }) else { return }
            try await remove(config, family: .ipv6, target, replacing: nil)
            try await restoreIPv6(target)
        }
    }

    /// Puts an IPv4 access config back on nic0 (see ``putBack(_:original:ephemeral:_:add:)``),
    /// retrying through a connectivity gap for the swap's budget (about a minute); a failure
    /// throws ``stranded(_:_:_:)``.
    private func restoreIPv4(_ target: Target) async throws {
        let original = removed[.ipv4]
        let ephemeral = Compute.AccessConfig(type: "ONE_TO_ONE_NAT", name: original?.name ?? Self.ipv4ConfigName,
                                             networkTier: original?.networkTier)
        do {
            try await putBack(.ipv4, original: original, ephemeral: ephemeral, target) { config in
                try await swapCompute.addAccessConfig(project: target.project, zone: target.zone, instance: target.instance,
                                                      config: config)
            }
        } catch let error as KubeIPError {
            throw stranded(.ipv4, target, error)
        }
        emptied.remove(.ipv4)
        removed[.ipv4] = nil
    }

    /// Puts an IPv6 access config back on nic0 unless it has one (see ``putBack(_:original:ephemeral:_:add:)``).
    private func restoreIPv6(_ target: Target) async throws {
        let nic = try await primaryInterface(target)
        if nic.ipv6AccessConfigs?.isEmpty == false {
            emptied.remove(.ipv6)
            removed[.ipv6] = nil
            return
        }
        let original = removed[.ipv6]
        let ephemeral = Compute.AccessConfig(type: "DIRECT_IPV6", name: original?.name ?? Self.ipv6ConfigName,
                                             networkTier: original?.networkTier)
        do {
            try await putBack(.ipv6, original: original, ephemeral: ephemeral, target) { config in
                try await updateIPv6(config, nic: nic, target)
            }
        } catch let error as KubeIPError {
            throw stranded(.ipv6, target, error)
        }
        emptied.remove(.ipv6)
        removed[.ipv6] = nil
    }

    /// Adds `original` (the access config kubeip removed) when it had an address: a static
    /// address outside the pool can be taken again, an ephemeral one just released usually
    /// cannot. When it cannot (any refusal but a transient one), or there is no original,
    /// adds `ephemeral`. nic0 having such an access config already counts as done.
    private func putBack(_ family: IPFamily, original: Compute.AccessConfig?, ephemeral: Compute.AccessConfig,
                         _ target: Target, add: (Compute.AccessConfig) async throws -> Void) async throws {
        let kind = family == .ipv4 ? "external address" : "external IPv6 range"
        if let original, let ip = original.natIP ?? original.externalIpv6 {
            logger.notice("putting nic0's original \(kind) back", metadata: ["address": "\(ip)", "instance": "\(target.instance)"])
            do {
                try await add(original)
                return
            } catch let error as KubeIPError where ComputeError.isAccessConfigTaken(error) {
                logger.debug("nic0 has such an access config already", metadata: ["instance": "\(target.instance)"])
                return
            } catch let error as KubeIPError where !error.isRetryable {
                logger.info("nic0's original \(kind) cannot be had again (an ephemeral one is gone once released): taking a new ephemeral one",
                            metadata: ["address": "\(ip)", "error": "\(error)", "instance": "\(target.instance)"])
            }
        }
        logger.notice("no static address on nic0: putting an ephemeral \(kind) back",
                      metadata: ["instance": "\(target.instance)"])
        do {
            try await add(ephemeral)
        } catch let error as KubeIPError where ComputeError.isAccessConfigTaken(error) {
            logger.debug("nic0 has such an access config already", metadata: ["instance": "\(target.instance)"])
        }
    }

    /// The error of a put-back that failed, logged at error level as well (a caller cleaning
    /// up after another error may not surface it): nic0 is left without an external address
    /// of `family`. For IPv4 and a transient `error`, `.unavailable` saying the API cannot be
    /// reached and what to do; else `error`'s code, saying what is missing.
    private func stranded(_ family: IPFamily, _ target: Target, _ error: KubeIPError) -> KubeIPError {
        let resource = Self.interfaceID(project: target.project, zone: target.zone, instance: target.instance)
        let failure: KubeIPError
        if family == .ipv4 && error.isRetryable {
            failure = KubeIPError(.unavailable,
                                  "nic0 of \(target.instance) has no external IPv4 address and the Compute API cannot be reached (\(error.message)); if its subnet has neither Private Google Access nor Cloud NAT, the VM cannot reach the API until one is back: enable Private Google Access on \(subnetwork ?? "its subnet"), or add one by hand (gcloud compute instances add-access-config \(target.instance) --zone \(target.zone))",
                                  resource: resource)
        } else {
            let kind = family == .ipv4 ? "external IPv4 address" : "external IPv6 range"
            failure = KubeIPError(error.code, "nic0 of \(target.instance) has no \(kind): putting one back failed: \(error.message)",
                                  setting: error.setting, resource: error.resource ?? resource)
        }
        logger.error("\(failure.message)", metadata: ["instance": "\(target.instance)", "code": "\(failure.code)"])
        return failure
    }

    // MARK: Helpers

    static func isIPv4(_ config: Compute.AccessConfig) -> Bool {
        (config.type ?? "ONE_TO_ONE_NAT") == "ONE_TO_ONE_NAT"
    }

    /// nic0 as instances.get shows it now (read through `client`, by default the pool's own).
    private func primaryInterface(_ target: Target, using client: ComputeClient? = nil) async throws -> Compute.NetworkInterface {
        let instance = try await (client ?? compute).getInstance(project: target.project, zone: target.zone, name: target.instance)
        let interfaces = instance.networkInterfaces ?? []
        guard let nic = interfaces.first(where: { $0.name == "nic0" }) ?? interfaces.first else {
            throw KubeIPError(.cloudAPI, "instance \(target.instance) has no network interface", resource: target.instance)
        }
        if let link = nic.subnetwork, let path = Self.resourcePath(link) { subnetwork = path }
        return nic
    }

    /// A self-link from `projects/` on (`https://.../compute/v1/projects/p/regions/r/subnetworks/s`
    /// → `projects/p/regions/r/subnetworks/s`); nil when it names no project.
    static func resourcePath(_ link: String) -> String? {
        link.firstRange(of: "projects/").map { String(link[$0.lowerBound...]) }
    }
}
