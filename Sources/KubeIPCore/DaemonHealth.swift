#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// What a running daemon is doing, and whether it is alive and ready: read by the health
/// listener (`/healthz`, `/readyz`), the systemd watchdog and `kubeip status`.
///
/// *Alive* means making progress: every step the daemon starts, every engine event and every
/// planned pause pushes a deadline forward; a step that runs past its deadline (a wedged call)
/// makes the daemon not alive, so the watchdog stops pinging and the liveness probe fails.
/// *Ready* means every configured address is held and announced (in kube mode: the Node reports it).
public final class DaemonHealth: Sendable {
    /// The daemon's state, as one word.
    public enum Phase: String, Sendable, CaseIterable, Codable {
        /// Started; nothing asked of the cloud yet.
        case starting
        /// Learning who this machine is.
        case identifying
        /// No address could be had yet; looking again later.
        case waiting
        /// Trying a candidate.
        case claiming
        /// Every address is held.
        case holding
        /// Giving addresses back.
        case releasing
        /// Holding nothing on purpose: gave up (retry-attempts) or the machine is going away.
        case idle
        /// Stopped on a fatal error.
        case failed
        /// Stopped on request.
        case stopped
    }

    /// One consistent reading.
    public struct Snapshot: Sendable, Equatable {
        public var phase: Phase
        public var ready: Bool
        /// False once a step has run past the time it was given.
        public var alive: Bool
        /// When the current step or pause must show progress by.
        public var deadline: Date
    }

    private struct State {
        var phase: Phase = .starting
        var ready = false
        var deadline: Date
    }

    private let clock: any WallClock
    private let stepBudget: Duration
    private let state: Mutex<State>

    /// - Parameters:
    ///   - stepBudget: the longest one step may take without an event (a GCE operation wait alone
    ///     may take two minutes; calls have their own timeouts well below this).
    public init(clock: any WallClock = SystemClock(), stepBudget: Duration = .seconds(300)) {
        self.clock = clock
        self.stepBudget = stepBudget
        self.state = Mutex(State(deadline: clock.now.addingTimeInterval(stepBudget.seconds)))
    }

    /// Records progress: the next must come within `duration` (plus the step budget when it is a
    /// planned pause, so a pause followed by a step is covered); nil means one step budget.
    public func beat(pausing duration: Duration? = nil) {
        let allowed = (duration ?? .zero) + stepBudget
        let deadline = clock.now.addingTimeInterval(allowed.seconds)
        state.withLock { $0.deadline = deadline }
    }

    /// Records the phase (and progress).
    public func enter(_ phase: Phase) {
        beat()
        state.withLock { $0.phase = phase }
    }

    /// Sets readiness.
    public func setReady(_ ready: Bool) {
        state.withLock { $0.ready = ready }
    }

    /// The phase, readiness and liveness now, read together.
    public var snapshot: Snapshot {
        let now = clock.now
        return state.withLock { s in
            Snapshot(phase: s.phase, ready: s.ready,
                     alive: s.phase != .failed && now <= s.deadline, deadline: s.deadline)
        }
    }

    /// An observer that keeps this health current from the engine's events, then hands each
    /// event on to `next` (give it to the ``AddressEngine``).
    public func observing(_ next: any EngineObserver) -> any EngineObserver {
        HealthObserver(health: self, next: next)
    }

    /// The phase an engine event puts the daemon in, if it changes it.
    static func phase(after event: EngineEvent) -> Phase? {
        switch event {
        case .identifying: .identifying
        case .attempting: .claiming
        case .waiting, .transientError, .lost: .waiting
        case .releasing: .releasing
        case .identified, .listed, .adopted, .lostRace, .busy, .claimed, .verified, .released: nil
        }
    }
}

/// Forwards engine events to another observer, keeping the daemon's health current.
struct HealthObserver: EngineObserver {
    let health: DaemonHealth
    let next: any EngineObserver

    func record(_ event: EngineEvent) {
        if let phase = DaemonHealth.phase(after: event) {
            health.enter(phase)
        } else {
            health.beat()
        }
        if case .waiting(_, _, _, let retryIn, _) = event { health.beat(pausing: retryIn) }
        // The address is gone: not ready until one is held (and announced) again.
        if case .lost = event { health.setReady(false) }
        if case .transientError(_, let retryIn) = event { health.beat(pausing: retryIn) }
        next.record(event)
    }
}
