#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// What a finished (or stopped) child process left.
struct ProcessOutcome: Sendable, Equatable {
    /// How it ended.
    enum Ending: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        /// Killed by the runner: it outlived the timeout.
        case timedOut
        /// Killed by the runner: it wrote more than the output limit.
        case outputTooLarge
    }

    var ending: Ending
    var stdout: [UInt8]
    /// The first bytes of its standard error (at most the runner's limit).
    var stderr: [UInt8]
}

/// Runs a program with posix_spawn: standard input `/dev/null` (never a terminal), standard
/// output and error through pipes, its own process group (so that a timeout kills whatever it
/// started too), the given environment. The blocking waits run on a Dispatch thread, never on
/// Swift's cooperative pool; cancelling the calling task kills the process group.
enum ProcessRunner {
    /// Why the program could not be started.
    struct SpawnError: Error, Sendable {
        var code: Int32
        var notFound: Bool { code == ENOENT || code == ENOTDIR }
        var description: String { String(cString: strerror(code)) }
    }

    static func run(command: String, arguments: [String], environment: [String: String], timeout: Duration,
                    maxOutputBytes: Int = 1 << 20, maxErrorBytes: Int = 8 << 10) async throws -> ProcessOutcome {
        let cancel = try CancelPipe()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutcome, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result {
                        try runBlocking(command: command, arguments: arguments, environment: environment,
                                        timeout: timeout, maxOutputBytes: maxOutputBytes, maxErrorBytes: maxErrorBytes,
                                        cancel: cancel)
                    })
                }
            }
        } onCancel: {
            cancel.signal()
        }
    }

    // MARK: The blocking part

    private static func runBlocking(command: String, arguments: [String], environment: [String: String],
                                    timeout: Duration, maxOutputBytes: Int, maxErrorBytes: Int,
                                    cancel: CancelPipe) throws -> ProcessOutcome {
        if cancel.isSignalled { throw CancellationError() }
        let output = try Pipe()
        defer { output.closeAll() }
        let errors = try Pipe()
        defer { errors.closeAll() }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.write, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = CStringArray([command] + arguments)
        let envp = CStringArray(environment.map { "\($0.key)=\($0.value)" }.sorted())
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, command, &actions, &attributes, argv.pointers, envp.pointers)
        guard spawned == 0 else { throw SpawnError(code: spawned) }
        output.closeWrite()
        errors.closeWrite()

        var outcome = ProcessOutcome(ending: .exited(0), stdout: [], stderr: [])
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var open = [output.read, errors.read]
        var stopped: ProcessOutcome.Ending?
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)

        // Read both pipes until they close, the deadline passes or the caller cancels.
        while !open.isEmpty && stopped == nil {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { stopped = .timedOut; break }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            fds.append(pollfd(fd: cancel.read, events: Int16(POLLIN), revents: 0))
            let ready = poll(&fds, nfds_t(fds.count), milliseconds(remaining))
            if ready < 0 {
                if errno == EINTR { continue }
                stopped = .timedOut
                break
            }
            if fds.last!.revents != 0 { kill(-pid, SIGKILL); reap(pid); throw CancellationError() }
            for entry in fds.dropLast() where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 { open.removeAll { $0 == entry.fd }; continue }
                if entry.fd == output.read {
                    outcome.stdout += buffer[0..<count]
                    if outcome.stdout.count > maxOutputBytes { stopped = .outputTooLarge }
                } else if outcome.stderr.count < maxErrorBytes {
                    outcome.stderr += buffer[0..<min(count, maxErrorBytes - outcome.stderr.count)]
                }
            }
        }
        if let stopped {
            kill(-pid, SIGKILL)
            reap(pid)
            outcome.ending = stopped
            return outcome
        }
        // Both pipes closed: wait for the exit, still within the deadline.
        while true {
            var status: Int32 = 0
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                let signal = status & 0x7f
                outcome.ending = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
                return outcome
            }
            if done < 0 && errno != EINTR { outcome.ending = .exited(-1); return outcome }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero {
                kill(-pid, SIGKILL)
                reap(pid)
                outcome.ending = .timedOut
                return outcome
            }
            var wake = [pollfd(fd: cancel.read, events: Int16(POLLIN), revents: 0)]
            if poll(&wake, 1, min(10, milliseconds(remaining))) > 0 {
                kill(-pid, SIGKILL)
                reap(pid)
                throw CancellationError()
            }
        }
    }

    private static func reap(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1
        return Int32(clamping: max(0, total))
    }

    /// A pipe whose ends are closed on exec (the child gets only the dup2'd copies).
    private final class Pipe {
        let read: Int32
        private(set) var write: Int32

        init() throws {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw SpawnError(code: errno) }
            read = fds[0]
            write = fds[1]
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            _ = fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK)
        }

        func closeWrite() {
            if write >= 0 { close(write); write = -1 }
        }

        func closeAll() {
            closeWrite()
            close(read)
        }
    }

    /// `argv`/`envp`: C strings terminated by a null pointer, freed with the array.
    private final class CStringArray {
        let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
        private let count: Int

        init(_ strings: [String]) {
            count = strings.count
            pointers = .allocate(capacity: strings.count + 1)
            for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
            pointers[strings.count] = nil
        }

        deinit {
            for index in 0..<count { free(pointers[index]) }
            pointers.deallocate()
        }
    }
}

/// A pipe the cancelling task writes to, waking the runner's `poll`.
private final class CancelPipe: Sendable {
    let read: Int32
    private let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw ProcessRunner.SpawnError(code: errno) }
        read = fds[0]
        writeEnd = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)
    }

    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    var isSignalled: Bool {
        var entry = [pollfd(fd: read, events: Int16(POLLIN), revents: 0)]
        return poll(&entry, 1, 0) > 0
    }

    deinit {
        close(read)
        close(writeEnd)
    }
}
