/// The one error type that crosses module boundaries.
///
/// It names what failed (`setting` for configuration, `resource` for a cloud object or a
/// refused API action) and never carries a secret: adapters build the message from
/// identifiers, codes and the cloud's own error text, never from credentials or tokens.
public struct KubeIPError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure this is; decides retry and exit code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidSetting, identity, authentication, permissionDenied, notFound, conflict
            case throttled, unavailable, cloudAPI, poolExhausted, lockHeld, io
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A setting is malformed or out of range (exit 78, EX_CONFIG).
        public static let invalidSetting = Code(.invalidSetting)
        /// The instance could not learn who it is (metadata unreachable, unknown cloud).
        public static let identity = Code(.identity)
        /// Credentials are missing, expired or rejected.
        public static let authentication = Code(.authentication)
        /// The cloud refused an action for lack of permission; `resource` names the action.
        public static let permissionDenied = Code(.permissionDenied)
        /// A named resource does not exist.
        public static let notFound = Code(.notFound)
        /// The address is held by someone else: a lost race, not a failure.
        public static let conflict = Code(.conflict)
        /// The cloud asked us to slow down.
        public static let throttled = Code(.throttled)
        /// A 5xx, a timeout or a connection failure: worth retrying.
        public static let unavailable = Code(.unavailable)
        /// Any other error the cloud returned.
        public static let cloudAPI = Code(.cloudAPI)
        /// No free address after the configured number of attempts.
        public static let poolExhausted = Code(.poolExhausted)
        /// Another kubeip on this host holds the lock.
        public static let lockHeld = Code(.lockHeld)
        /// A local file could not be read or written.
        public static let io = Code(.io)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The setting at fault, by its file key (e.g. `filter`).
    public var setting: String?
    /// The cloud resource or API action at fault (e.g. `eipalloc-0abc`, `ec2:AssociateAddress`).
    public var resource: String?
    /// The provider's own machine-readable reason, as its API returned it in a code field
    /// (EC2 `Resource.AlreadyAssociated`, Compute `IP_IN_USE_BY_ANOTHER_RESOURCE`, Kubernetes
    /// `AlreadyExists`): what callers decide on, never the message text.
    public var providerCode: String?

    public init(_ code: Code, _ message: String, setting: String? = nil, resource: String? = nil,
                providerCode: String? = nil) {
        self.code = code
        self.message = message
        self.setting = setting
        self.resource = resource
        self.providerCode = providerCode
    }

    /// Errors that a later identical call may not repeat.
    public var isRetryable: Bool { code == .throttled || code == .unavailable }

    /// sysexits(3) code for a process ending on this error.
    public var exitCode: Int32 {
        switch code {
        case .invalidSetting: 78       // EX_CONFIG
        case .permissionDenied, .authentication: 77  // EX_NOPERM
        case .lockHeld, .throttled, .unavailable, .identity: 75 // EX_TEMPFAIL: systemd restarts it
        case .poolExhausted: 69        // EX_UNAVAILABLE
        case .io: 74                   // EX_IOERR
        default: 1
        }
    }

    public var description: String {
        var text = message
        if let setting { text = "setting '\(setting)': " + text }
        if let resource, !message.contains(resource) { text += " [\(resource)]" }
        return text
    }

    /// Shorthand for a configuration error naming the setting and the accepted form.
    public static func invalid(_ setting: String, _ message: String) -> KubeIPError {
        KubeIPError(.invalidSetting, message, setting: setting)
    }
}
