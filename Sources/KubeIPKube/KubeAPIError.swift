import KubeIPCore

/// The Kubernetes API answered a call with an error status.
///
/// Callers switch on ``reason`` (from the `metav1.Status` body, else from the HTTP status),
/// never on the message text. ``kubeIPError`` is the same failure as the core's error, for the
/// engine's retry and exit-code logic.
public struct KubeAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `metav1.StatusReason`: why the call failed.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        case alreadyExists, conflict, notFound, unauthorized, forbidden, invalid, tooManyRequests, gone
        case timeout, serverTimeout, internalError, badRequest, methodNotAllowed, unsupportedMediaType
        case notAcceptable, requestEntityTooLarge, expired, serviceUnavailable
        /// A reason this client does not know, as the server spelled it.
        case unknown(String)

        private static let known: [(Reason, String)] = [
            (.alreadyExists, "AlreadyExists"), (.conflict, "Conflict"), (.notFound, "NotFound"),
            (.unauthorized, "Unauthorized"), (.forbidden, "Forbidden"), (.invalid, "Invalid"),
            (.tooManyRequests, "TooManyRequests"), (.gone, "Gone"), (.timeout, "Timeout"),
            (.serverTimeout, "ServerTimeout"), (.internalError, "InternalError"), (.badRequest, "BadRequest"),
            (.methodNotAllowed, "MethodNotAllowed"), (.unsupportedMediaType, "UnsupportedMediaType"),
            (.notAcceptable, "NotAcceptable"), (.requestEntityTooLarge, "RequestEntityTooLarge"),
            (.expired, "Expired"), (.serviceUnavailable, "ServiceUnavailable"),
        ]

        /// The reason spelled `text` on the wire.
        public init(_ text: String) {
            self = Self.known.first { $0.1 == text }?.0 ?? .unknown(text)
        }

        /// The reason an HTTP status implies when the body has none (as client-go reads it).
        public init(httpStatus: Int) {
            switch httpStatus {
            case 400: self = .badRequest
            case 401: self = .unauthorized
            case 403: self = .forbidden
            case 404: self = .notFound
            case 405: self = .methodNotAllowed
            case 406: self = .notAcceptable
            case 409: self = .conflict
            case 410: self = .gone
            case 413: self = .requestEntityTooLarge
            case 415: self = .unsupportedMediaType
            case 422: self = .invalid
            case 429: self = .tooManyRequests
            case 500: self = .internalError
            case 503: self = .serviceUnavailable
            case 504: self = .timeout
            default: self = .unknown("HTTP \(httpStatus)")
            }
        }

        /// The wire spelling (`AlreadyExists`).
        public var description: String {
            if case .unknown(let text) = self { return text }
            return Self.known.first { $0.0 == self }?.1 ?? "Unknown"
        }
    }

    /// Why it failed.
    public var reason: Reason
    /// The HTTP status.
    public var status: Int
    /// The API verb: `get`, `create`, `update`, `patch`, `delete`.
    public var verb: String
    /// What it was called on: `nodes/ip-10-0-0-1`, `leases/kube-system/kubeip-eipalloc-123`.
    public var resource: String
    /// The API group of the resource, as RBAC names it (`""` for the core group).
    public var apiGroup: String
    /// The server's message (credentials scrubbed).
    public var message: String
    /// The Status body's details, when it had them.
    public var details: KubeStatus.Details?

    public init(reason: Reason, status: Int, verb: String, resource: String, apiGroup: String = "",
                message: String, details: KubeStatus.Details? = nil) {
        self.reason = reason
        self.status = status
        self.verb = verb
        self.resource = resource
        self.apiGroup = apiGroup
        self.message = message
        self.details = details
    }

    /// `get nodes/x`.
    public var call: String { "\(verb) \(resource)" }

    public var description: String {
        "the Kubernetes API answered \(status) \(reason) for \(call)" + (message.isEmpty ? "" : ": \(message)")
    }

    /// Whether the same call may succeed later: throttling, server errors and timeouts.
    public var isRetryable: Bool {
        switch reason {
        case .tooManyRequests, .serverTimeout, .timeout, .serviceUnavailable, .internalError: true
        default: status == 429 || status >= 500
        }
    }

    /// The same failure as the core's error.
    ///
    /// 401 → `.authentication`, 403 → `.permissionDenied` (resource: the RBAC grant missing),
    /// 409 → `.conflict`, 404 → `.notFound`, 429 → `.throttled`, 5xx and timeouts →
    /// `.unavailable`, anything else → `.cloudAPI`.
    public var kubeIPError: KubeIPError {
        let said = message.isEmpty ? "" : ": \(message)"
        switch reason {
        case .unauthorized:
            return KubeIPError(.authentication,
                               "the Kubernetes API refused the credentials (401 Unauthorized) for \(call)\(said)",
                               resource: call)
        case .forbidden:
            let kind = resource.split(separator: "/").first.map(String.init) ?? resource
            let group = apiGroup.isEmpty ? "the core API group" : "API group \(apiGroup)"
            return KubeIPError(.permissionDenied,
                               "the Kubernetes API forbids \(call) (403 Forbidden)\(said); kubeip's RBAC role must grant '\(verb)' on '\(kind)' in \(group)",
                               resource: call)
        case .conflict, .alreadyExists:
            return KubeIPError(.conflict, description, resource: call)
        case .notFound:
            return KubeIPError(.notFound, description, resource: call)
        case .tooManyRequests:
            return KubeIPError(.throttled, description, resource: call)
        default:
            return KubeIPError(isRetryable ? .unavailable : .cloudAPI, description, resource: call)
        }
    }
}
