import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small, bounded HTTP/1.1 server over POSIX sockets.
///
/// Design: one dedicated I/O thread (not a Swift concurrency thread) owns every socket. It
/// waits in `poll(2)` on the listener, on each connection and on a wake-up pipe, and does only
/// non-blocking `accept`/`recv`/`send`. A complete request is handed to the async handler in
/// a new task; the task's answer comes back through a queue and the pipe, and the I/O thread
/// writes it. So no blocking call ever runs on the caller's tasks or the cooperative pool.
///
/// Bounds: ``Configuration/maxConnections`` open connections (a further one is answered `503`
/// and closed at once), request line (`414`), header count and size (`431`), body size (`413`),
/// ``Configuration/requestTimeout`` from a request's first byte to its last (slow clients get
/// `408` and are dropped; the same bound applies to writing an answer), and
/// ``Configuration/idleTimeout`` between keep-alive requests. Keep-alive is the HTTP/1.1
/// default; `Connection: close` (and HTTP/1.0 without keep-alive) are honoured. Request bodies
/// may be sent with `Content-Length` or `Transfer-Encoding: chunked`; other codings get `501`.
/// Requests on one connection are served one after another (a pipelined request waits).
///
/// Lifecycle: ``start()`` binds and serves; ``run()`` (the shape of a swift-service-lifecycle
/// `Service`) starts if needed and returns once the server has stopped, stopping it when the
/// task is cancelled; ``stop()`` stops accepting, closes idle connections, lets requests in
/// flight finish for up to ``Configuration/shutdownGracePeriod`` (then cancels their handlers
/// and closes everything) and returns when all is closed.
public final class HTTPServer: Sendable {
    /// Serves one request. Runs in a task of its own; it should honour cancellation (the server
    /// cancels handlers still running at the end of a stop's grace period).
    public typealias Handler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

    /// Where to listen and the bounds.
    public struct Configuration: Sendable {
        /// A numeric IPv4 or IPv6 address (`127.0.0.1`, `::1` or `[::1]`), a name that resolves
        /// (`localhost`), or empty for every IPv4 address.
        public var host: String
        /// 0 picks a free port (see ``HTTPServer/localAddress``).
        public var port: Int
        /// Open connections at most; one more is answered 503 and closed.
        public var maxConnections: Int
        /// Longest request line (method, target, version), in bytes.
        public var maxRequestLineBytes: Int
        /// Most header fields in one request.
        public var maxHeaderCount: Int
        /// Longest header section (all field lines), in bytes.
        public var maxHeaderBytes: Int
        /// Largest request body, in bytes.
        public var maxBodyBytes: Int
        /// Time from a request's first byte to its last, and to write an answer.
        public var requestTimeout: Duration
        /// How long a keep-alive connection may wait for its next request.
        public var idleTimeout: Duration
        /// How long a stop waits for requests in flight.
        public var shutdownGracePeriod: Duration

        public init(host: String = "127.0.0.1", port: Int = 0, maxConnections: Int = 64,
                    maxRequestLineBytes: Int = 8192, maxHeaderCount: Int = 100, maxHeaderBytes: Int = 16384,
                    maxBodyBytes: Int = 1 << 20, requestTimeout: Duration = .seconds(10),
                    idleTimeout: Duration = .seconds(60), shutdownGracePeriod: Duration = .seconds(5)) {
            self.host = host
            self.port = port
            self.maxConnections = maxConnections
            self.maxRequestLineBytes = maxRequestLineBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
            self.requestTimeout = requestTimeout
            self.idleTimeout = idleTimeout
            self.shutdownGracePeriod = shutdownGracePeriod
        }

        /// A configuration for `host:port` (`127.0.0.1:9090`, `[::1]:0`, `:9090` for every IPv4
        /// address); nil when the text is not of that form.
        public init?(address: String) {
            let host: Substring
            let portText: Substring
            if address.hasPrefix("[") {
                guard let close = address.firstIndex(of: "]"), address[address.index(after: close)...].hasPrefix(":") else {
                    return nil
                }
                host = address[address.index(after: address.startIndex)..<close]
                portText = address[address.index(close, offsetBy: 2)...]
            } else {
                guard let colon = address.lastIndex(of: ":"), !address[..<colon].contains(":") else { return nil }
                host = address[..<colon]
                portText = address[address.index(after: colon)...]
            }
            guard !portText.isEmpty, portText.allSatisfy(\.isASCIIDigit), let port = Int(portText), port <= 65535 else {
                return nil
            }
            self.init(host: String(host), port: port)
        }

        var limits: HTTPRequestLimits {
            HTTPRequestLimits(maxRequestLineBytes: maxRequestLineBytes, maxHeaderCount: maxHeaderCount,
                              maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        }
    }

    enum Phase: Sendable {
        case idle
        case running(HTTPServerAddress)
        case stopping(HTTPServerAddress)
        case stopped
    }

    struct Shared: ~Copyable {
        var phase: Phase = .idle
        var stopRequested = false
        var finished: [UInt64: HTTPServerResponse] = [:]
        var handlers: [UInt64: Task<Void, Never>] = [:]
        var waiters: [CheckedContinuation<Void, Never>] = []
        var wakeFD: Int32 = -1
    }

    /// The settings the server was made with.
    public let configuration: Configuration
    let handler: Handler
    let immediateHandler: ImmediateHandler?
    let shared = Mutex(Shared())

    /// A server that has not started. While it runs, its I/O thread keeps it alive: stop it.
    public init(configuration: Configuration = Configuration(), handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
        self.immediateHandler = nil
    }

    /// A handler that answers at once, on the server's I/O thread: it must not block or wait.
    public typealias ImmediateHandler = @Sendable (HTTPServerRequest) -> HTTPServerResponse

    /// A server whose answers need no task: health probes keep being answered even when every
    /// thread of Swift's cooperative pool is busy (they report a wedged daemon, rather than time out).
    public init(configuration: Configuration = Configuration(), immediate: @escaping ImmediateHandler) {
        self.configuration = configuration
        self.handler = { immediate($0) }
        self.immediateHandler = immediate
    }

    /// The bound address while the server runs (what port 0 became); nil before start and after stop.
    public var localAddress: HTTPServerAddress? {
        shared.withLock { s in
            switch s.phase {
            case .running(let address), .stopping(let address): address
            case .idle, .stopped: nil
            }
        }
    }

    /// Binds and starts serving on the I/O thread; returns the bound address.
    /// Throws ``HTTPServerError`` (naming the address) when the address cannot be had, and
    /// when the server was started before.
    @discardableResult
    public func start() throws(HTTPServerError) -> HTTPServerAddress {
        let shown = HTTPServerAddress(host: configuration.host, port: configuration.port).description
        let alreadyStarted = shared.withLock { s in
            if case .idle = s.phase { return false }
            return true
        }
        if alreadyStarted { throw HTTPServerError(address: shown, reason: "the server was started before") }
        let (listener, address) = try Socket.listen(host: configuration.host, port: configuration.port,
                                                    backlog: Int32(max(16, configuration.maxConnections)))
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0, Socket.setNonBlocking(pipeFDs[0], closeOnExec: true),
              Socket.setNonBlocking(pipeFDs[1], closeOnExec: true) else {
            let reason = Socket.errorText(errno)
            close(listener)
            throw HTTPServerError(address: shown, reason: reason)
        }
        shared.withLock { s in
            s.phase = .running(address)
            s.wakeFD = pipeFDs[1]
        }
        let loop = HTTPServerLoop(server: self, listener: listener, wakeRead: pipeFDs[0], wakeWrite: pipeFDs[1])
        var thread = pthread_t()
        let context = Unmanaged.passRetained(loop).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            let loop = Unmanaged<HTTPServerLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<HTTPServerLoop>.fromOpaque(context).release()
            close(listener)
            close(pipeFDs[0])
            close(pipeFDs[1])
            shared.withLock { s in
                s.phase = .stopped
                s.wakeFD = -1
            }
            throw HTTPServerError(address: shown, reason: "cannot start the I/O thread: \(Socket.errorText(created))")
        }
        pthread_detach(thread)
        return address
    }

    /// Starts the server unless it runs already, then waits until it has stopped. Cancelling
    /// the calling task stops the server (gracefully, as ``stop()``); `run()` returns when
    /// every connection is closed.
    public func run() async throws {
        if case .idle = shared.withLock({ $0.phase }) { try start() }
        await withTaskCancellationHandler {
            await waitUntilStopped()
        } onCancel: {
            requestStop()
        }
    }

    /// Stops the server and waits until every connection is closed (see the type's notes).
    public func stop() async {
        requestStop()
        await waitUntilStopped()
    }

    /// Asks the server to stop, without waiting.
    public func requestStop() {
        shared.withLock { s in
            s.stopRequested = true
            if case .idle = s.phase { s.phase = .stopped }
            // Under the lock: the I/O thread closes the pipe only after clearing wakeFD.
            if s.wakeFD >= 0 { Self.wake(s.wakeFD) }
        }
        if case .stopped = shared.withLock({ $0.phase }) { resumeWaiters() }
    }

    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = shared.withLock { s -> Bool in
                if case .stopped = s.phase { return true }
                s.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    func resumeWaiters() {
        let waiters = shared.withLock { s -> [CheckedContinuation<Void, Never>] in
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Writes one byte to the wake-up pipe (a full pipe already wakes the loop).
    static func wake(_ fd: Int32) {
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
    }

    /// Hands a request to the handler in a new task; its answer is queued for the I/O thread.
    func dispatch(_ request: HTTPServerRequest, connection id: UInt64) {
        if let immediateHandler {
            let response = immediateHandler(request)
            shared.withLock { s in
                s.finished[id] = response
                if s.wakeFD >= 0 { Self.wake(s.wakeFD) }
            }
            return
        }
        let handler = self.handler
        shared.withLock { s in
            s.handlers[id] = Task { [self] in
                let response = await handler(request)
                shared.withLock { s in
                    guard s.handlers.removeValue(forKey: id) != nil else { return }
                    s.finished[id] = response
                    if s.wakeFD >= 0 { Self.wake(s.wakeFD) }
                }
            }
        }
    }
}
