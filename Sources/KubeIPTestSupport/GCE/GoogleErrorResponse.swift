import KubeIPHTTP

/// An error answer of a Google JSON API:
/// `{"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}`.
struct GoogleErrorResponse: Error, Sendable {
    var status: Int
    var message: String
    var reason: String
    var headers: [HTTPHeader] = []

    /// The canonical gRPC-style status name Google sends alongside the HTTP status.
    static func statusName(for status: Int) -> String {
        switch status {
        case 400: "INVALID_ARGUMENT"
        case 401: "UNAUTHENTICATED"
        case 403: "PERMISSION_DENIED"
        case 404: "NOT_FOUND"
        case 409: "ABORTED"
        case 412: "FAILED_PRECONDITION"
        case 429: "RESOURCE_EXHAUSTED"
        case 501: "UNIMPLEMENTED"
        case 503: "UNAVAILABLE"
        case 504: "DEADLINE_EXCEEDED"
        default: status >= 500 ? "INTERNAL" : "UNKNOWN"
        }
    }

    /// The `reason` a status carries when the caller names none.
    static func defaultReason(for status: Int) -> String {
        switch status {
        case 400: "invalid"
        case 401: "required"
        case 403: "forbidden"
        case 404: "notFound"
        case 412: "conditionNotMet"
        case 429: "rateLimitExceeded"
        default: "backendError"
        }
    }

    static func badRequest(_ message: String, reason: String = "invalid") -> GoogleErrorResponse {
        GoogleErrorResponse(status: 400, message: message, reason: reason)
    }

    static func notFound(_ resource: String) -> GoogleErrorResponse {
        GoogleErrorResponse(status: 404, message: "The resource '\(resource)' was not found", reason: "notFound")
    }

    static func urlNotFound(_ path: String) -> GoogleErrorResponse {
        GoogleErrorResponse(status: 404, message: "No method serves \(path) on this endpoint.", reason: "notFound")
    }

    static func forbidden(_ message: String, reason: String = "forbidden") -> GoogleErrorResponse {
        GoogleErrorResponse(status: 403, message: message, reason: reason)
    }

    /// The JSON body.
    var body: JSONValue {
        ["error": [
            "code": .number(Double(status)),
            "message": .string(message),
            "errors": [["message": .string(message), "domain": "global", "reason": .string(reason)]],
            "status": .string(GoogleErrorResponse.statusName(for: status)),
        ]]
    }

    var response: HTTPResponse {
        HTTPResponse(status: status,
                     headers: [HTTPHeader("Content-Type", "application/json; charset=UTF-8")] + headers,
                     body: body.bytes)
    }
}
