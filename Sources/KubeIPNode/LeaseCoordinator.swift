#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPKube
import Logging

/// Claim coordination through one `coordination.k8s.io/v1` Lease per address, in one namespace.
///
/// Before any cloud mutation for an address, this node takes the address's Lease:
/// - **create** is atomic: 409 AlreadyExists means another node is trying that address (move on);
/// - a Lease that exists but has **expired** (its `renewTime` + `leaseDurationSeconds` is past) is
///   taken over only by an update carrying the `resourceVersion` read (409 Conflict: someone else
///   took it over first);
/// - while the claim is in flight the Lease is **renewed** every third of its duration;
/// - once the claim is settled (won or lost) the Lease is **deleted** with a `resourceVersion`
///   precondition, so a Lease exists only while a claim is in flight.
///
/// The holder identity is the node's name and a token of this process, so two nodes (or two
/// processes of one node) never share one. Times are `MicroTime`s.
public struct LeaseCoordinator: ClaimCoordinator {
    /// Labels every kubeip Lease carries.
    public static let managedByLabel = ["app.kubernetes.io/managed-by": "kubeip"]
    /// Annotations naming what a Lease is about (for `kubectl get leases -o yaml`).
    public static let addressAnnotation = "kubeip.com/address"

    let client: KubernetesClient
    /// Where the Leases live (`lease-namespace`).
    public let namespace: String
    /// This process: `<node>_<token>`.
    public let holder: String
    /// `lease-duration`.
    public let duration: Duration
    let clock: any WallClock
    let logger: Logger

    /// - Parameters:
    ///   - holder: `holderIdentity` of this process's Leases (see ``holderIdentity(node:random:)``).
    ///   - duration: how long a Lease lasts without renewal (at least one second).
    public init(client: KubernetesClient, namespace: String, holder: String, duration: Duration,
                clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "kubeip.lease")) {
        self.client = client
        self.namespace = namespace
        self.holder = holder
        self.duration = max(duration, .seconds(1))
        self.clock = clock
        self.logger = logger
    }

    /// `<node>_<8 hex digits>`: unique per node and per process.
    public static func holderIdentity(node: String, random: any RandomSource) -> String {
        let token = UInt32(random.nextUnit() * Double(UInt32.max))
        let hex = String(token, radix: 16)
        return "\(node)_\(String(repeating: "0", count: 8 - hex.count))\(hex)"
    }

    /// The Lease of `address` in `region`: `kubeip-<region>-<address id>`, as a DNS subdomain
    /// (lower case; anything but letters, digits, `-` and `.` becomes `-`; at most 253 characters).
    public static func leaseName(for address: PoolAddress, region: String) -> String {
        let raw = "kubeip-\(region)-\(address.id)".lowercased()
        var name = String(raw.map { ch -> Character in
            (ch.isASCII && (ch.isLetter || ch.isNumber)) || ch == "-" || ch == "." ? ch : "-"
        })
        if name.count > 253 { name = String(name.prefix(253)) }
        while let last = name.last, !(last.isLetter || last.isNumber) { name.removeLast() }
        return name
    }

    public func coordinate<T: Sendable>(claimOf address: PoolAddress, by identity: InstanceIdentity,
                                        _ claim: @Sendable () async throws -> T) async throws -> Coordinated<T> {
        let name = Self.leaseName(for: address, region: identity.region)
        let taken: Lease
        switch try await take(name, address) {
        case .held(let lease): taken = lease
        case .busy(let other):
            logger.debug("another node is claiming this address", metadata: ["lease": "\(name)", "holder": "\(other)"])
            return .busy(holder: other)
        }
        logger.debug("lease taken", metadata: ["lease": "\(name)", "address": "\(address.ip)"])
        let held = HeldLease(taken)
        let result: T
        do {
            // The claim runs here; the renewal beside it, until the claim is settled.
            result = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.renew(held) }
                defer { group.cancelAll() }
                return try await claim()
            }
        } catch {
            await release(held)
            throw error
        }
        await release(held)
        return .ran(result)
    }

    // MARK: Taking

    private enum Take {
        case held(Lease)
        case busy(String)
    }

    /// Creates the Lease, or takes over an expired one.
    private func take(_ name: String, _ address: PoolAddress) async throws -> Take {
        for _ in 0..<3 {
            let now = clock.now
            let fresh = Lease(metadata: ObjectMeta(name: name, namespace: namespace, labels: Self.managedByLabel,
                                                   annotations: [Self.addressAnnotation: address.ip]),
                              spec: .init(holderIdentity: holder, leaseDurationSeconds: seconds, acquireTime: MicroTime(now),
                                          renewTime: MicroTime(now), leaseTransitions: 0))
            do {
                return .held(try await client.createLease(fresh, namespace: namespace))
            } catch let error as KubeAPIError where error.reason == .alreadyExists {
                // Someone holds it, or held it and died: look.
            } catch {
                throw failure(error)
            }
            let current: Lease
            do {
                current = try await client.getLease(namespace: namespace, name: name)
            } catch let error as KubeAPIError where error.reason == .notFound {
                continue   // deleted in between: create again
            } catch {
                throw failure(error)
            }
            let other = current.spec?.holderIdentity ?? "another node"
            // Ours already: a create whose answer was lost (and retried) had landed.
            if other == holder { return .held(current) }
            guard Self.hasExpired(current, at: now) else { return .busy(other) }
            var next = current
            let transitions = (current.spec?.leaseTransitions ?? 0) + 1
            next.spec = .init(holderIdentity: holder, leaseDurationSeconds: seconds, acquireTime: MicroTime(now),
                              renewTime: MicroTime(now), leaseTransitions: transitions)
            next.metadata.annotations = (current.metadata.annotations ?? [:]).merging([Self.addressAnnotation: address.ip]) { $1 }
            do {
                let taken = try await client.updateLease(next)
                logger.info("took over an expired lease", metadata: ["lease": "\(name)", "previous_holder": "\(other)"])
                return .held(taken)
            } catch let error as KubeAPIError where error.reason == .conflict {
                // Another node took it over first, or our own update landed and its answer was lost.
                if let fresh = try await refreshed(name), fresh.spec?.holderIdentity == holder { return .held(fresh) }
                return .busy(other)
            } catch let error as KubeAPIError where error.reason == .notFound {
                continue
            } catch {
                throw failure(error)
            }
        }
        return .busy("another node")
    }

    /// Whether `lease`'s holder has let it lapse: its last renewal (else its acquisition) plus its
    /// duration is past. A Lease with neither time, or without a duration, counts as lapsed.
    static func hasExpired(_ lease: Lease, at now: Date) -> Bool {
        guard let spec = lease.spec, let seconds = spec.leaseDurationSeconds, seconds > 0,
              let renewed = spec.renewTime?.date ?? spec.acquireTime?.date else { return true }
        return renewed.addingTimeInterval(Double(seconds)) < now
    }

    // MARK: Holding

    /// The Lease as last written (each renewal changes its resourceVersion).
    private actor HeldLease {
        var lease: Lease
        init(_ lease: Lease) { self.lease = lease }
        func set(_ lease: Lease) { self.lease = lease }
    }

    /// Renews every third of the duration until cancelled. A failed renewal is logged and tried
    /// again at the next tick: the cloud's compare-and-set is the final arbiter of the claim.
    private func renew(_ held: HeldLease) async {
        let period = max(duration.scaled(by: 1.0 / 3.0), .milliseconds(500))
        while !Task.isCancelled {
            do { try await clock.sleep(for: period) } catch { return }
            var next = await held.lease
            next.spec?.renewTime = MicroTime(clock.now)
            do {
                await held.set(try await client.updateLease(next))
            } catch is CancellationError {
                return
            } catch let error as KubeAPIError where error.reason == .conflict || error.reason == .notFound {
                // A renewal whose answer was lost landed (the version moved on: still ours), or the
                // lease lapsed and another node took it over.
                if let name = next.metadata.name, let fresh = try? await refreshed(name),
                   fresh.spec?.holderIdentity == holder {
                    await held.set(fresh)
                    continue
                }
                logger.warning("lost the lease while claiming (it lapsed and another node took it over); the cloud decides the claim",
                               metadata: ["lease": "\(next.metadata.name ?? "")", "error": "\(error)"])
                return
            } catch {
                logger.warning("could not renew the lease, trying again",
                               metadata: ["lease": "\(next.metadata.name ?? "")", "error": "\(error)"])
            }
        }
    }

    /// Deletes the Lease as last written (when the version moved on but the Lease is still ours,
    /// a renewal whose answer was lost, as it is now). Gone or taken over means nothing to do; any
    /// other failure is logged (the Lease lapses on its own after its duration).
    private func release(_ held: HeldLease) async {
        var lease = await held.lease
        guard let name = lease.metadata.name else { return }
        do {
            for attempt in 0..<2 {
                do {
                    try await client.deleteLease(namespace: namespace, name: name,
                                                 preconditionResourceVersion: lease.metadata.resourceVersion)
                    logger.debug("lease given up", metadata: ["lease": "\(name)"])
                    return
                } catch let error as KubeAPIError where error.reason == .conflict && attempt == 0 {
                    guard let fresh = try await refreshed(name), fresh.spec?.holderIdentity == holder else { throw error }
                    lease = fresh
                }
            }
        } catch let error as KubeAPIError where error.reason == .conflict || error.reason == .notFound {
            logger.debug("lease already gone or taken over", metadata: ["lease": "\(name)"])
        } catch {
            logger.warning("could not delete the lease; it lapses by itself",
                           metadata: ["lease": "\(name)", "error": "\(error)"])
        }
    }

    private var seconds: Int { max(1, Int(duration.seconds.rounded(.up))) }

    /// The Lease as it is now; nil when it is gone.
    private func refreshed(_ name: String) async throws -> Lease? {
        do {
            return try await client.getLease(namespace: namespace, name: name)
        } catch let error as KubeAPIError where error.reason == .notFound {
            return nil
        }
    }

    /// The core's error for a failed Lease call (the client's 403 message names the verb and
    /// resource the Role must grant).
    private func failure(_ error: any Error) -> KubeIPError {
        KubernetesClient.coreError(error)
    }
}
