import KubeIPCore
import KubeIPKube
import Logging

/// Kubernetes API calls made patiently, for everything kube mode asks of its Node: failures that
/// pass (429, 5xx, no answer) are waited out with backoff (2 s doubling to 30 s), saying so in
/// the log and the status line; a stop or reload request ends the wait (``KubeIPCore/Interrupted``).
/// Other failures are thrown as they came (a ``KubeIPKube/KubeAPIError`` keeps its reason for the
/// caller), so callers decide on typed reasons and map the rest with `KubernetesClient.coreError`.
struct PatientKube: Sendable {
    let requests: DaemonRequests
    let clock: any WallClock
    let random: any RandomSource
    let status: @Sendable (String) -> Void
    let logger: Logger

    /// Whether `error` is one that passes: worth waiting out.
    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as KubeAPIError: error.isRetryable
        case let error as KubeIPError: error.isRetryable
        default: false
        }
    }

    /// Calls `body` until it succeeds or fails with an error that is not waited out.
    /// - Parameter waitOut: why an error is to be waited out (a line for the status), or nil to
    ///   throw it; by default, the transient ones.
    func call<T: Sendable>(_ what: String, waitOut: (any Error) -> String? = PatientKube.transient,
                           _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            let why: String
            do {
                return try await body()
            } catch let error where !(error is Interrupted) && waitOut(error) != nil {
                why = waitOut(error) ?? "\(error)"
            }
            let pause = Backoff(initial: .seconds(2), cap: .seconds(30)).delay(attempt: attempt, random: random)
            attempt += 1
            logger.warning("\(what): \(why), trying again", metadata: ["retry_in": "\(pause.shortDescription)"])
            status("\(what): \(why), trying again in \(pause.shortDescription)")
            guard try await requests.pause(for: pause, on: clock) else { throw Interrupted() }
        }
    }

    /// The default of ``call(_:waitOut:_:)``: transient errors, described.
    static func transient(_ error: any Error) -> String? {
        isTransient(error) ? "the Kubernetes API is unavailable (\(error))" : nil
    }
}
