import KubeIPCore
import KubeIPSimulator

/// A resource's qualified name as the apiserver prints it in messages: `nodes`,
/// `leases.coordination.k8s.io` (`schema.GroupResource.String()`).
public struct GroupResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var resource: String
    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }
    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

/// One field error, as `k8s.io/apimachinery/pkg/util/validation/field.Error` renders it.
public struct FieldError: Sendable, Hashable {
    /// The `field.ErrorType`: `FieldValueRequired`, `FieldValueInvalid`, ...
    public var reason: String
    /// The path, `spec.leaseDurationSeconds`.
    public var field: String
    /// `ErrorBody()`: `Invalid value: 0: must be greater than 0`.
    public var body: String

    /// `field.Invalid(path, value, detail)`; `value` is already rendered as Go prints it
    /// (strings quoted, numbers bare).
    public static func invalid(_ field: String, _ renderedValue: String, _ detail: String) -> FieldError {
        FieldError(reason: "FieldValueInvalid", field: field,
                   body: "Invalid value: \(renderedValue)" + (detail.isEmpty ? "" : ": \(detail)"))
    }

    /// `field.Required(path, detail)`.
    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(reason: "FieldValueRequired", field: field, body: "Required value" + (detail.isEmpty ? "" : ": \(detail)"))
    }

    /// `field.NotSupported(path, value, validValues)`.
    public static func notSupported(_ field: String, _ value: String, _ valid: [String]) -> FieldError {
        FieldError(reason: "FieldValueNotSupported", field: field,
                   body: "Unsupported value: \(goQuote(value)): supported values: "
                       + valid.map(goQuote).joined(separator: ", "))
    }

    /// `field.Duplicate(path, value)` with a detail.
    public static func duplicate(_ field: String, _ renderedValue: String, _ detail: String) -> FieldError {
        FieldError(reason: "FieldValueDuplicate", field: field, body: "Duplicate value: \(renderedValue): \(detail)")
    }

    /// `field.Forbidden(path, detail)`.
    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(reason: "FieldValueForbidden", field: field, body: "Forbidden: \(detail)")
    }

    /// `field.TooLong(path, value, max)` as apimachinery 1.32 words it.
    public static func tooLong(_ field: String, _ max: Int) -> FieldError {
        FieldError(reason: "FieldValueTooLong", field: field, body: "Too long: may not be more than \(max) bytes")
    }

    /// `field.Error.Error()`: `path: body`.
    public var message: String { "\(field): \(body)" }
}

/// Go's `%q`, which for the printable text these messages carry writes what JSON writes.
func goQuote(_ text: String) -> String { QuotedText.jsonLiteral(text) }

/// A failure answered as a `metav1.Status` body, worded as `k8s.io/apimachinery/pkg/api/errors` words it.
public struct KubernetesStatusError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    /// `details`; nil leaves the member out (as for 401).
    public var details: JSONValue?
    /// Extra response headers (`Retry-After`).
    public var headers: [(String, String)] = []

    public static func == (a: KubernetesStatusError, b: KubernetesStatusError) -> Bool {
        a.code == b.code && a.reason == b.reason && a.message == b.message && a.details == b.details
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    public init(code: Int, reason: String, message: String, details: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `metav1.Status` document.
    public var body: JSONValue {
        var members: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .number(Double(code)),
        ]
        if reason.isEmpty { members["reason"] = nil }
        if let details { members["details"] = details }
        return .object(members)
    }

    static func details(_ resource: GroupResource?, name: String, kind: String? = nil, extra: [String: JSONValue] = [:]) -> JSONValue {
        var members = extra
        if !name.isEmpty { members["name"] = .string(name) }
        if let resource, !resource.group.isEmpty { members["group"] = .string(resource.group) }
        if let kind = kind ?? resource?.resource, !kind.isEmpty { members["kind"] = .string(kind) }
        return .object(members)
    }

    /// `errors.NewNotFound`: `nodes "x" not found`.
    public static func notFound(_ resource: GroupResource, _ name: String) -> KubernetesStatusError {
        KubernetesStatusError(code: 404, reason: "NotFound", message: "\(resource) \(goQuote(name)) not found",
                              details: details(resource, name: name))
    }

    /// `errors.NewAlreadyExists`: `leases.coordination.k8s.io "x" already exists`.
    public static func alreadyExists(_ resource: GroupResource, _ name: String) -> KubernetesStatusError {
        KubernetesStatusError(code: 409, reason: "AlreadyExists", message: "\(resource) \(goQuote(name)) already exists",
                              details: details(resource, name: name))
    }

    /// `errors.NewConflict`: `Operation cannot be fulfilled on leases.coordination.k8s.io "x": <why>`.
    public static func conflict(_ resource: GroupResource, _ name: String, _ why: String) -> KubernetesStatusError {
        KubernetesStatusError(code: 409, reason: "Conflict",
                              message: "Operation cannot be fulfilled on \(resource) \(goQuote(name)): \(why)",
                              details: details(resource, name: name))
    }

    /// The registry's optimistic-concurrency failure (`OptimisticLockErrorMsg`).
    public static func staleResourceVersion(_ resource: GroupResource, _ name: String) -> KubernetesStatusError {
        conflict(resource, name, "the object has been modified; please apply your changes to the latest version and try again")
    }

    /// `errors.NewInvalid`: `Lease.coordination.k8s.io "x" is invalid: <errors>` (kind, not resource).
    public static func invalid(kind: String, group: String, name: String, _ errors: [FieldError]) -> KubernetesStatusError {
        let qualified = group.isEmpty ? kind : "\(kind).\(group)"
        let list = errors.count == 1 ? errors[0].message : "[" + errors.map(\.message).joined(separator: ", ") + "]"
        let causes: [JSONValue] = errors.map {
            ["reason": .string($0.reason), "message": .string($0.body), "field": .string($0.field)]
        }
        var detail: [String: JSONValue] = ["kind": .string(kind), "causes": .array(causes)]
        if !name.isEmpty { detail["name"] = .string(name) }
        if !group.isEmpty { detail["group"] = .string(group) }
        return KubernetesStatusError(code: 422, reason: "Invalid", message: "\(qualified) \(goQuote(name)) is invalid: \(list)",
                                     details: .object(detail))
    }

    /// `errors.NewBadRequest`: reason BadRequest, no details.
    public static func badRequest(_ message: String) -> KubernetesStatusError {
        KubernetesStatusError(code: 400, reason: "BadRequest", message: message)
    }

    /// `errors.NewForbidden`: `<resource> ["name"] is forbidden: <why>`.
    public static func forbidden(_ resource: GroupResource, _ name: String, _ why: String) -> KubernetesStatusError {
        let subject = name.isEmpty ? "\(resource)" : "\(resource) \(goQuote(name))"
        return KubernetesStatusError(code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(why)",
                                     details: details(resource, name: name))
    }

    /// The authentication filter's answer (`responsewriters.Unauthorized`): no details.
    public static let unauthorized = KubernetesStatusError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    /// `errors.NewMethodNotSupported`: `<verb> is not supported on resources of kind "<resource>"`.
    public static func methodNotSupported(_ resource: GroupResource, _ action: String) -> KubernetesStatusError {
        KubernetesStatusError(code: 405, reason: "MethodNotAllowed",
                              message: "\(action) is not supported on resources of kind \(goQuote(resource.description))",
                              details: details(resource, name: ""))
    }

    /// The handlers' 404 for a path no API serves (`the server could not find the requested resource`).
    public static let pathNotFound = KubernetesStatusError(code: 404, reason: "NotFound",
                                                           message: "the server could not find the requested resource",
                                                           details: [:])

    /// `errors.NewGenericServerResponse(422, ...)`: how the patch handler reports a JSON patch
    /// that cannot be applied (a failed `test`, a missing path).
    public static func unprocessablePatch(_ why: String) -> KubernetesStatusError {
        KubernetesStatusError(code: 422, reason: "Invalid",
                              message: "the server rejected our request due to an error in our request",
                              details: ["causes": [["reason": "UnexpectedServerResponse", "message": .string(why)]]])
    }

    /// The patch handler's answer to a content type it does not take.
    public static func unsupportedMediaType(_ contentType: String, accepted: [String]) -> KubernetesStatusError {
        KubernetesStatusError(code: 415, reason: "UnsupportedMediaType",
                              message: "the body of the request was in an unknown format - accepted media types include: "
                                  + accepted.joined(separator: ", "))
    }
}
