import CSystemd
import Dispatch
import KubeIPCore
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A ``KubeIPCore/ShutdownDetector`` asking systemd whether the machine is going down.
///
/// The machine counts as shutting down when either answer says so:
/// 1. the manager's `SystemState` property is `stopping` (systemd reports this once a job for
///    `shutdown.target` is queued or running, which every reboot, power-off, halt, kexec and
///    soft-reboot pulls in);
/// 2. a `start` job is queued for `shutdown.target`, `reboot.target`, `poweroff.target`,
///    `halt.target` or `kexec.target` (the manager's `ListJobs`), a second look that costs one call.
///
/// Any failure to ask (no bus, permission, timeout) is logged and answers "not shutting down",
/// so the caller keeps its address: a wrong "no" costs a stale address for one boot, a wrong
/// "yes" would give away the address of a machine that stays up.
///
/// Run the daemon ordered `After=dbus.service` (so it stops before the bus) or as root, in which
/// case systemd's private socket `/run/systemd/private` is tried first and works without D-Bus.
public struct SystemStateShutdownDetector: ShutdownDetector {
    private let systemState: @Sendable () async throws -> String
    private let shutdownJobQueued: (@Sendable () async throws -> Bool)?
    private let logger: Logger?

    /// A detector with injected answers (tests, other service managers).
    /// - Parameters:
    ///   - systemState: returns the manager's `SystemState` (`running`, `degraded`, `stopping`, …).
    ///   - shutdownJobQueued: returns whether a shutdown-type target has a queued start job; nil to skip that look.
    ///   - logger: receives a warning when an answer source fails.
    public init(systemState: @escaping @Sendable () async throws -> String,
                shutdownJobQueued: (@Sendable () async throws -> Bool)? = nil,
                logger: Logger? = nil) {
        self.systemState = systemState
        self.shutdownJobQueued = shutdownJobQueued
        self.logger = logger
    }

    /// The production detector: asks systemd (PID 1) over sd-bus, each look on a fresh connection
    /// made off the cooperative thread pool, with a 5 s call timeout. As root it uses systemd's
    /// private socket when present, otherwise the system bus (`DBUS_SYSTEM_BUS_ADDRESS` is honoured).
    public static func systemBus(logger: Logger? = nil) -> SystemStateShutdownDetector {
        detector(endpoint: .automatic, logger: logger)
    }

    /// A detector asking the systemd manager reachable through the D-Bus message bus at `address`
    /// (e.g. `unix:path=/run/dbus/system_bus_socket`); for tests and unusual setups.
    public static func messageBus(address: String, logger: Logger? = nil) -> SystemStateShutdownDetector {
        detector(endpoint: .messageBus(address), logger: logger)
    }

    private static func detector(endpoint: SystemdManagerBus.Endpoint, logger: Logger?) -> SystemStateShutdownDetector {
        SystemStateShutdownDetector(
            systemState: { try await SystemdManagerBus.run(endpoint) { try $0.systemState() } },
            shutdownJobQueued: { try await SystemdManagerBus.run(endpoint) { try $0.hasShutdownJob() } },
            logger: logger)
    }

    /// True when systemd says the machine is stopping; false when it says otherwise or cannot be asked.
    public func isSystemShuttingDown() async -> Bool {
        do {
            let state = try await systemState()
            if state == "stopping" { return true }
            logger?.debug("system state is not stopping", metadata: ["system-state": "\(state)"])
        } catch {
            logger?.warning("cannot read systemd's SystemState; assuming no shutdown", metadata: ["error": "\(error)"])
        }
        guard let shutdownJobQueued else { return false }
        do {
            return try await shutdownJobQueued()
        } catch {
            logger?.warning("cannot list systemd's jobs; assuming no shutdown", metadata: ["error": "\(error)"])
            return false
        }
    }
}

/// A failed sd-bus call: the step, the errno text and the D-Bus error name, if any.
public struct SystemdBusError: Error, Sendable, CustomStringConvertible {
    /// What was being attempted.
    public var step: String
    /// The negative errno libsystemd returned.
    public var code: Int32
    /// The D-Bus error name (e.g. `org.freedesktop.DBus.Error.AccessDenied`), when the peer sent one.
    public var name: String?

    /// `<step>: <errno text> (<D-Bus error name>)`.
    public var description: String {
        "\(step): \(String(cString: strerror(-code)))" + (name.map { " (\($0))" } ?? "")
    }
}

/// One short-lived connection to systemd's manager object. Not thread-safe: one per look.
private final class SystemdManagerBus {
    private static let destination = "org.freedesktop.systemd1"
    private static let objectPath = "/org/freedesktop/systemd1"
    private static let interface = "org.freedesktop.systemd1.Manager"
    private static let shutdownTargets: Set<String> = [
        "shutdown.target", "reboot.target", "poweroff.target", "halt.target", "kexec.target",
    ]

    private let bus: OpaquePointer

    /// Where to reach the manager.
    enum Endpoint: Sendable {
        /// systemd's private socket when root, else the system bus.
        case automatic
        /// A D-Bus message bus at this address.
        case messageBus(String)
    }

    /// Runs `body` on a new connection, on a Dispatch queue (sd-bus calls block).
    static func run<T: Sendable>(_ endpoint: Endpoint,
                                 _ body: @escaping @Sendable (SystemdManagerBus) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try body(SystemdManagerBus(endpoint)) })
            }
        }
    }

    private init(_ endpoint: Endpoint) throws {
        switch endpoint {
        case .automatic: bus = try Self.connectPrivate() ?? Self.connectSystem()
        case .messageBus(let address): bus = try Self.connect(address: address)
        }
        _ = sd_bus_set_method_call_timeout(bus, 5_000_000)
    }

    deinit { sd_bus_flush_close_unref(bus) }

    private static func connect(address: String) throws -> OpaquePointer {
        var bus: OpaquePointer?
        var result = sd_bus_new(&bus)
        guard result >= 0, let bus else { throw SystemdBusError(step: "cannot create a bus connection", code: result) }
        result = sd_bus_set_address(bus, address)
        if result >= 0 { result = sd_bus_set_bus_client(bus, 1) }
        if result >= 0 { result = sd_bus_start(bus) }
        guard result >= 0 else {
            sd_bus_flush_close_unref(bus)
            throw SystemdBusError(step: "cannot connect to the bus at \(address)", code: result)
        }
        return bus
    }

    /// systemd's own socket: root only, and alive even when the D-Bus broker has stopped.
    private static func connectPrivate() -> OpaquePointer? {
        guard geteuid() == 0, access("/run/systemd/private", F_OK) == 0 else { return nil }
        var bus: OpaquePointer?
        guard sd_bus_new(&bus) >= 0, let bus else { return nil }
        guard sd_bus_set_address(bus, "unix:path=/run/systemd/private") >= 0, sd_bus_start(bus) >= 0 else {
            sd_bus_flush_close_unref(bus)
            return nil
        }
        return bus
    }

    private static func connectSystem() throws -> OpaquePointer {
        var bus: OpaquePointer?
        let result = sd_bus_open_system(&bus)
        guard result >= 0, let bus else {
            throw SystemdBusError(step: "cannot connect to the system bus", code: result)
        }
        return bus
    }

    func systemState() throws -> String {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var value: UnsafeMutablePointer<CChar>?
        let result = sd_bus_get_property_string(bus, Self.destination, Self.objectPath, Self.interface,
                                                "SystemState", &error, &value)
        guard result >= 0, let value else {
            throw SystemdBusError(step: "cannot read SystemState", code: result < 0 ? result : -EIO,
                                  name: error.name.map { String(cString: $0) })
        }
        defer { free(value) }
        return String(cString: value)
    }

    func hasShutdownJob() throws -> Bool {
        var request: OpaquePointer?
        var result = sd_bus_message_new_method_call(bus, &request, Self.destination, Self.objectPath,
                                                    Self.interface, "ListJobs")
        guard result >= 0, let request else { throw SystemdBusError(step: "cannot build ListJobs", code: result) }
        defer { sd_bus_message_unref(request) }

        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        result = sd_bus_call(bus, request, 0, &error, &reply)
        guard result >= 0, let reply else {
            throw SystemdBusError(step: "ListJobs failed", code: result < 0 ? result : -EIO,
                                  name: error.name.map { String(cString: $0) })
        }
        defer { sd_bus_message_unref(reply) }

        // a(usssoo): id, unit, job type, job state, job path, unit path.
        func check(_ code: Int32, _ step: String) throws -> Int32 {
            guard code >= 0 else { throw SystemdBusError(step: "cannot parse ListJobs: \(step)", code: code) }
            return code
        }
        _ = try check(sd_bus_message_enter_container(reply, CChar(UInt8(ascii: "a")), "(usssoo)"), "array")
        while try check(sd_bus_message_enter_container(reply, CChar(UInt8(ascii: "r")), "usssoo"), "entry") > 0 {
            var id: UInt32 = 0
            var unit: UnsafePointer<CChar>?
            var type: UnsafePointer<CChar>?
            _ = try check(sd_bus_message_read_basic(reply, CChar(UInt8(ascii: "u")), &id), "id")
            _ = try check(sd_bus_message_read_basic(reply, CChar(UInt8(ascii: "s")), &unit), "unit")
            _ = try check(sd_bus_message_read_basic(reply, CChar(UInt8(ascii: "s")), &type), "type")
            _ = try check(sd_bus_message_skip(reply, "soo"), "rest")
            _ = try check(sd_bus_message_exit_container(reply), "entry end")
            if let unit, let type, String(cString: type) == "start", Self.shutdownTargets.contains(String(cString: unit)) {
                return true
            }
        }
        _ = try check(sd_bus_message_exit_container(reply), "array end")
        return false
    }
}
