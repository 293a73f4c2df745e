import Foundation
import KubeIPSystemd
import Testing

/// A unix datagram socket standing in for systemd's notification socket.
private final class NotifySocket {
    let directory: TemporaryDirectory
    let path: String
    let fd: Int32

    init() throws {
        directory = try TemporaryDirectory("kubeip-notify")
        path = directory.file("notify")
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        // A guard against hanging if a message never comes; not a timing assertion.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram's text, or nil when none arrives.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    deinit {
        close(fd)
        directory.cleanup()
    }
}

/// These tests change the process environment, so they run one at a time.
@Suite(.serialized) struct SystemdNotifierTests {
    private func withNotifySocket(_ body: (NotifySocket) throws -> Void) throws {
        let socket = try NotifySocket()
        setenv("NOTIFY_SOCKET", socket.path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        try body(socket)
    }

    @Test func messagesArriveInOrder() throws {
        try withNotifySocket { socket in
            let notifier = SystemdNotifier()
            notifier.status("identifying this instance")
            notifier.ready(status: "holding 198.51.100.7 (eipalloc-0abc)\non eni-1 of i-2")
            notifier.watchdog()
            let before = SystemdNotifierTests.monotonicMicroseconds()
            notifier.reloading()
            notifier.ready(status: "holding 198.51.100.7 (eipalloc-0abc)")
            notifier.stopping(status: "releasing 198.51.100.7\r\n")
            notifier.extendTimeout(by: .seconds(90))

            #expect(socket.receive() == "STATUS=identifying this instance")
            #expect(socket.receive() == "READY=1\nSTATUS=holding 198.51.100.7 (eipalloc-0abc) on eni-1 of i-2")
            #expect(socket.receive() == "WATCHDOG=1")
            let reloading = try #require(socket.receive())
            let lines = reloading.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.first == "RELOADING=1")
            let stamp = try #require(lines.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
            #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
            #expect(stamp >= before && stamp <= SystemdNotifierTests.monotonicMicroseconds())
            #expect(socket.receive() == "READY=1\nSTATUS=holding 198.51.100.7 (eipalloc-0abc)")
            #expect(socket.receive() == "STOPPING=1\nSTATUS=releasing 198.51.100.7  ")
            #expect(socket.receive() == "EXTEND_TIMEOUT_USEC=90000000")
        }
    }

    @Test func sendReportsDelivery() throws {
        try withNotifySocket { socket in
            #expect(SystemdNotifier().send("STATUS=x"))
            #expect(socket.receive() == "STATUS=x")
        }
        unsetenv("NOTIFY_SOCKET")
        #expect(!SystemdNotifier().send("STATUS=x"))
    }

    @Test func withoutNotifySocketEverythingIsANoOp() {
        unsetenv("NOTIFY_SOCKET")
        let notifier = SystemdNotifier()
        notifier.ready(status: "ready")
        notifier.status("status")
        notifier.reloading()
        notifier.stopping(status: "stopping")
        notifier.watchdog()
        notifier.extendTimeout(by: .seconds(1))
        #expect(ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] == nil)
    }

    @Test func watchdogIntervalFollowsTheEnvironment() {
        defer {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
        #expect(SystemdNotifier().watchdogInterval == nil)

        setenv("WATCHDOG_USEC", "30000000", 1)
        setenv("WATCHDOG_PID", String(getpid()), 1)
        #expect(SystemdNotifier().watchdogInterval == .seconds(30))
        // The environment is left as it was.
        #expect(ProcessInfo.processInfo.environment["WATCHDOG_USEC"] == "30000000")

        setenv("WATCHDOG_USEC", "1500", 1)
        unsetenv("WATCHDOG_PID")
        #expect(SystemdNotifier().watchdogInterval == .microseconds(1500))

        // Meant for another process (e.g. our parent).
        setenv("WATCHDOG_USEC", "30000000", 1)
        setenv("WATCHDOG_PID", String(getpid() + 1), 1)
        #expect(SystemdNotifier().watchdogInterval == nil)

        setenv("WATCHDOG_USEC", "not-a-number", 1)
        unsetenv("WATCHDOG_PID")
        #expect(SystemdNotifier().watchdogInterval == nil)
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
