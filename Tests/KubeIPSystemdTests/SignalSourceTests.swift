import Foundation
import KubeIPCore
import KubeIPSystemd
import Testing

/// Reads a signal stream one value at a time from any task.
private actor Reader {
    private var iterator: AsyncStream<DaemonSignal>.Iterator
    init(_ stream: AsyncStream<DaemonSignal>) { iterator = stream.makeAsyncIterator() }
    func next() async -> DaemonSignal? {
        var copy = iterator
        defer { iterator = copy }
        return await copy.next(isolation: self)
    }
}

/// Sends `number` to the calling thread, as `raise(3)` does. The test runner may start this process
/// with some signals blocked (a blocked thread-directed signal would stay pending on this thread
/// forever), so the signal is unblocked on this thread first, without a suspension point in between.
private func raiseOnThisThread(_ number: Int32) {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, number)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    raise(number)
}

/// Signals are process-wide: one test at a time.
@Suite(.serialized) struct SignalSourceTests {
    @Test func signalsBecomeDaemonRequests() async throws {
        let source = await SignalSource()
        let reader = Reader(source.signals)

        raiseOnThisThread(SIGHUP)
        #expect(try await within { await reader.next() } == .reload)

        // Process-directed, as systemd sends them.
        kill(getpid(), SIGTERM)
        #expect(try await within { await reader.next() } == .terminate)

        kill(getpid(), SIGINT)
        #expect(try await within { await reader.next() } == .terminate)

        kill(getpid(), SIGHUP)
        #expect(try await within { await reader.next() } == .reload)

        source.cancel()
        #expect(try await within { await reader.next() } == nil)
    }

    @Test func customSignalsAndASecondSource() async throws {
        // SIGHUP was watched by the previous test's (cancelled) source: a new one still sees it.
        let source = await SignalSource(terminate: [SIGUSR2], reload: [SIGUSR1, SIGHUP])
        defer { source.cancel() }
        let reader = Reader(source.signals)
        raiseOnThisThread(SIGUSR1)
        #expect(try await within { await reader.next() } == .reload)
        kill(getpid(), SIGUSR2)
        #expect(try await within { await reader.next() } == .terminate)
        kill(getpid(), SIGHUP)
        #expect(try await within { await reader.next() } == .reload)
    }
}
