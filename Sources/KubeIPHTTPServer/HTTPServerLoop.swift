#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The I/O thread of one ``HTTPServer``: every socket, connection state and deadline. Its
/// mutable state is touched only by that thread (hence `@unchecked Sendable`); the handlers'
/// answers reach it through the server's lock and the wake-up pipe.
final class HTTPServerLoop: @unchecked Sendable {
    private enum State {
        /// Waiting for the first byte of the next request (keep-alive).
        case idle
        /// Part of a request has arrived.
        case reading
        /// The handler has the request.
        case handling
        /// Sending an answer.
        case writing
        /// The answer is sent and our side shut down: reading and discarding until the peer
        /// closes, so that unread input does not turn the close into a reset that loses the answer.
        case draining
    }

    private struct Connection {
        let fd: Int32
        let remote: String
        var state: State = .idle
        var input: [UInt8] = []
        var output: [UInt8] = []
        var sent = 0
        var closeAfterWrite = false
        var continueSent = false
        var deadline: ContinuousClock.Instant
    }

    private let server: HTTPServer
    private let configuration: HTTPServer.Configuration
    private var listener: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var connections: [UInt64: Connection] = [:]
    private var nextID: UInt64 = 0
    private var stopDeadline: ContinuousClock.Instant?
    private let clock = ContinuousClock()
    private static let readChunk = 65536

    init(server: HTTPServer, listener: Int32, wakeRead: Int32, wakeWrite: Int32) {
        self.server = server
        self.configuration = server.configuration
        self.listener = listener
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
    }

    /// The loop; returns when the server has stopped and everything is closed.
    func run() {
        while true {
            if stopDeadline == nil, server.shared.withLock({ $0.stopRequested }) { beginStop() }
            if stopDeadline != nil && connections.isEmpty { break }
            if let stopDeadline, clock.now >= stopDeadline { break }

            var ids: [UInt64] = []
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if listener >= 0 { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            let base = fds.count
            for (id, connection) in connections {
                let events: Int32
                switch connection.state {
                case .idle, .reading, .draining: events = POLLIN
                case .writing: events = POLLOUT
                case .handling: continue
                }
                ids.append(id)
                fds.append(pollfd(fd: connection.fd, events: Int16(events), revents: 0))
            }
            let ready = poll(&fds, nfds_t(fds.count), pollTimeout())
            if ready < 0 && errno != EINTR { break }
            let now = clock.now

            if fds[0].revents != 0 { drainWakePipe() }
            collectAnswers(now: now)
            if listener >= 0, fds[1].revents != 0 { acceptAll(now: now) }
            for (offset, id) in ids.enumerated() where fds[base + offset].revents != 0 {
                serviceConnection(id, revents: fds[base + offset].revents, now: now)
            }
            expire(now: clock.now)
        }
        finish()
    }

    // MARK: Events

    private func pollTimeout() -> Int32 {
        var earliest = stopDeadline
        for connection in connections.values where connection.state != .handling {
            earliest = earliest.map { min($0, connection.deadline) } ?? connection.deadline
        }
        guard let earliest else { return -1 }
        let remaining = clock.now.duration(to: earliest)
        if remaining <= .zero { return 0 }
        let parts = remaining.components
        let milliseconds = parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000 + 1
        return Int32(min(milliseconds, 60_000))
    }

    private func drainWakePipe() {
        var bytes = [UInt8](repeating: 0, count: 256)
        while bytes.withUnsafeMutableBytes({ read(wakeRead, $0.baseAddress, $0.count) }) > 0 {}
    }

    private func acceptAll(now: ContinuousClock.Instant) {
        while let (fd, remote) = Socket.accept(listener) {
            if connections.count >= configuration.maxConnections {
                // Refused at once, with an answer the client can read before the close.
                let refusal = HTTPServerResponse.text("too many connections\n", status: 503)
                _ = Socket.send(fd, refusal.serialized(method: "GET", close: true)[...])
                shutdown(fd, Int32(SHUT_RDWR))
                close(fd)
                continue
            }
            nextID += 1
            connections[nextID] = Connection(fd: fd, remote: remote, deadline: now + configuration.idleTimeout)
        }
    }

    private func collectAnswers(now: ContinuousClock.Instant) {
        let answers = server.shared.withLock { s -> [UInt64: HTTPServerResponse] in
            defer { s.finished.removeAll() }
            return s.finished
        }
        for (id, response) in answers {
            guard var connection = connections[id], connection.state == .handling else { continue }
            if stopDeadline != nil { connection.closeAfterWrite = true }
            connections[id] = connection
            startWriting(id, now: now, method: pendingMethods.removeValue(forKey: id) ?? "GET", response: response)
        }
    }

    private var pendingMethods: [UInt64: String] = [:]

    private func startWriting(_ id: UInt64, now: ContinuousClock.Instant, method: String, response: HTTPServerResponse) {
        guard var connection = connections[id] else { return }
        connection.output = response.serialized(method: method, close: connection.closeAfterWrite)
        connection.sent = 0
        connection.state = .writing
        connection.deadline = now + configuration.requestTimeout
        connections[id] = connection
        writeSome(id, now: now)
    }

    private func serviceConnection(_ id: UInt64, revents: Int16, now: ContinuousClock.Instant) {
        guard let connection = connections[id] else { return }
        switch connection.state {
        case .writing:
            if revents & Int16(POLLOUT) != 0 { writeSome(id, now: now) } else { closeConnection(id) }
        case .idle, .reading, .draining:
            readSome(id, now: now)
        case .handling:
            break
        }
    }

    private func readSome(_ id: UInt64, now: ContinuousClock.Instant) {
        guard var connection = connections[id] else { return }
        let result = Socket.receive(connection.fd, into: &connection.input, max: Self.readChunk)
        switch result {
        case .closed:
            closeConnection(id)
            return
        case .wouldBlock:
            return
        case .bytes:
            break
        }
        if connection.state == .draining {
            connection.input.removeAll(keepingCapacity: true)
            connections[id] = connection
            return
        }
        if connection.state == .idle {
            connection.state = .reading
            connection.deadline = now + configuration.requestTimeout
        }
        connections[id] = connection
        processInput(id, now: now)
    }

    /// Parses what has arrived; dispatches a whole request, answers a refused one.
    private func processInput(_ id: UInt64, now: ContinuousClock.Instant) {
        guard var connection = connections[id], !connection.input.isEmpty else { return }
        if connection.state == .idle {
            connection.state = .reading
            connection.deadline = now + configuration.requestTimeout
        }
        switch HTTPRequestParser.parse(connection.input, limits: configuration.limits) {
        case .incomplete(let headersComplete, let expectsContinue):
            if headersComplete && expectsContinue && !connection.continueSent {
                connection.continueSent = true
                _ = Socket.send(connection.fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)[...])
            }
            connections[id] = connection
        case .request(var request, let consumed, let close):
            connection.input.removeFirst(consumed)
            connection.state = .handling
            connection.continueSent = false
            connection.closeAfterWrite = close || stopDeadline != nil
            connections[id] = connection
            request.remoteAddress = connection.remote
            pendingMethods[id] = request.method
            server.dispatch(request, connection: id)
        case .failure(let status, let message):
            connection.closeAfterWrite = true
            connection.input.removeAll()
            connection.state = .handling
            connections[id] = connection
            startWriting(id, now: now, method: "GET", response: .text(message + "\n", status: status))
        }
    }

    private func writeSome(_ id: UInt64, now: ContinuousClock.Instant) {
        guard var connection = connections[id] else { return }
        while connection.sent < connection.output.count {
            guard let sent = Socket.send(connection.fd, connection.output[connection.sent...]) else {
                closeConnection(id)
                return
            }
            if sent == 0 { break }
            connection.sent += sent
        }
        guard connection.sent == connection.output.count else {
            connections[id] = connection
            return
        }
        connection.output = []
        connection.sent = 0
        if connection.closeAfterWrite {
            shutdown(connection.fd, Int32(SHUT_WR))
            connection.state = .draining
            connection.input = []
            connection.deadline = now + min(configuration.requestTimeout, .seconds(2))
            connections[id] = connection
            return
        }
        connection.state = .idle
        connection.deadline = now + configuration.idleTimeout
        connections[id] = connection
        // A request pipelined behind the one just answered.
        processInput(id, now: now)
    }

    private func expire(now: ContinuousClock.Instant) {
        for (id, connection) in connections where connection.state != .handling && connection.deadline <= now {
            switch connection.state {
            case .reading:
                // Too slow: say so (best effort) and drop the client.
                let answer = HTTPServerResponse.text("request timeout\n", status: 408).serialized(method: "GET", close: true)
                _ = Socket.send(connection.fd, answer[...])
                closeConnection(id)
            case .idle, .writing, .draining, .handling:
                closeConnection(id)
            }
        }
    }

    // MARK: Stopping

    private func beginStop() {
        stopDeadline = clock.now + configuration.shutdownGracePeriod
        if listener >= 0 {
            close(listener)
            listener = -1
        }
        server.shared.withLock { s in
            if case .running(let address) = s.phase { s.phase = .stopping(address) }
        }
        for (id, connection) in connections {
            switch connection.state {
            case .idle, .reading, .draining: closeConnection(id)
            case .handling, .writing: connections[id]?.closeAfterWrite = true
            }
        }
    }

    private func closeConnection(_ id: UInt64) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        pendingMethods[id] = nil
        close(connection.fd)
    }

    private func finish() {
        if listener >= 0 {
            close(listener)
            listener = -1
        }
        let handlers = server.shared.withLock { s -> [Task<Void, Never>] in
            defer {
                s.handlers.removeAll()
                s.finished.removeAll()
                s.wakeFD = -1
                s.phase = .stopped
            }
            return Array(s.handlers.values)
        }
        for handler in handlers { handler.cancel() }
        for id in Array(connections.keys) { closeConnection(id) }
        close(wakeRead)
        close(wakeWrite)
        server.resumeWaiters()
    }
}
