import KubeIPCore

/// Forwards each engine event to the service manager as a `STATUS=` line.
public struct StatusObserver: EngineObserver {
    let notifier: any ServiceNotifier

    public init(notifier: any ServiceNotifier) { self.notifier = notifier }

    public func record(_ event: EngineEvent) {
        switch event {
        case .verified:
            return   // a quiet hold check changes nothing worth a status update
        default:
            notifier.status(event.statusLine)
        }
    }
}
