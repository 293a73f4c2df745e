import Dispatch
import KubeIPCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns process signals into ``KubeIPCore/DaemonSignal`` values: `SIGTERM` and `SIGINT` become
/// `.terminate`, `SIGHUP` becomes `.reload`.
///
/// Creating a source first sets each watched signal that still has its default action to "ignore"
/// (so it can no longer kill the process), then watches it with a Dispatch signal source. The
/// initialiser returns once every source is registered, so a signal sent after it returns is seen.
/// Signals arriving close together may be coalesced into one value; values are buffered (newest 16)
/// until read.
///
/// ``cancel()`` (or deinit) stops watching and ends ``signals``. The signals stay caught afterwards
/// (they do not regain their default action): create one source per process and keep it.
public final class SignalSource: Sendable {
    /// The signals received, in order, as daemon requests. Ends after ``cancel()``.
    public let signals: AsyncStream<DaemonSignal>

    private let state: Mutex<(watches: [Watch], continuation: AsyncStream<DaemonSignal>.Continuation?)>

    /// Starts watching and waits until the watch is in place.
    /// - Parameters:
    ///   - terminate: signals meaning "stop" (default `SIGTERM`, `SIGINT`).
    ///   - reload: signals meaning "re-read the configuration" (default `SIGHUP`).
    public init(terminate: [Int32] = [SIGTERM, SIGINT], reload: [Int32] = [SIGHUP]) async {
        let (stream, continuation) = AsyncStream.makeStream(of: DaemonSignal.self, bufferingPolicy: .bufferingNewest(16))
        signals = stream
        let queue = DispatchQueue(label: "kubeip.signals")
        var watches: [Watch] = []
        for (number, meaning) in terminate.map({ ($0, DaemonSignal.terminate) }) + reload.map({ ($0, .reload) }) {
            Self.ignoreIfDefault(number)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(meaning) }
            watches.append(Watch(source: source))
        }
        state = Mutex((watches, continuation))
        for watch in watches { await watch.resumeAndWaitForRegistration() }
    }

    deinit { cancel() }

    /// Stops watching and finishes ``signals``. Calling it again does nothing.
    public func cancel() {
        let (watches, continuation) = state.withLock { state in
            defer { state = ([], nil) }
            return (state.watches, state.continuation)
        }
        for watch in watches { watch.source.cancel() }
        continuation?.finish()
    }

    /// Until Dispatch installs its own handler (at registration), a default action would kill the
    /// process; a handler someone else installed (including Dispatch's, from an earlier source) is kept.
    private static func ignoreIfDefault(_ number: Int32) {
        var current = sigaction()
        guard sigaction(number, nil, &current) == 0 else { return }
        if current.__sigaction_handler.sa_handler == nil {
            signal(number, SIG_IGN)
        }
    }

    /// Dispatch sources are thread-safe objects; the SDK just does not mark them Sendable.
    private struct Watch: @unchecked Sendable {
        let source: any DispatchSourceSignal

        /// Resumes the source and returns once Dispatch has registered it (or given up on it).
        func resumeAndWaitForRegistration() async {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let once = Mutex<CheckedContinuation<Void, Never>?>(done)
                let finish: @Sendable () -> Void = { once.withLock { $0.take() }?.resume() }
                source.setRegistrationHandler(handler: finish)
                source.setCancelHandler(handler: finish)
                source.resume()
            }
        }
    }
}
