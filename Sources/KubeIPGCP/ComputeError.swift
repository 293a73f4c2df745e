import KubeIPCore
import KubeIPHTTP

/// The network interface's fingerprint was stale (HTTP 412 conditionNotMet): read the
/// instance again and retry with the current one.
public struct GCPStaleFingerprint: Error, Sendable, CustomStringConvertible {
    public var resource: String
    public var description: String { "the network interface of \(resource) changed since it was read (stale fingerprint)" }
}

/// Translation of Compute Engine errors (HTTP answers and failed operations) to ``KubeIPError``.
enum ComputeError {
    /// What a call is, for messages: the IAM permission it needs and the resource it names.
    struct Call: Sendable {
        /// `compute.instances.addAccessConfig`
        var permission: String
        /// `projects/p/zones/z/instances/i`
        var resource: String
        /// For addresses.list: a 400 about the filter or the order names that setting.
        var namesSettings = false

        /// The project `resource` names (`projects/<p>/...`), else the resource.
        var project: String {
            let parts = resource.split(separator: "/")
            return parts.count > 1 && parts[0] == "projects" ? String(parts[1]) : resource
        }
    }

    /// 403 reasons of a request quota or rate limit: transient, retried with backoff.
    static let throttleReasons: Set<String> = ["quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded",
                                               "RATE_LIMIT_EXCEEDED"]
    /// 403 reasons of a project where the Compute Engine API is not enabled.
    static let disabledServiceReasons: Set<String> = ["accessNotConfigured", "SERVICE_DISABLED"]
    /// 403 reasons of a project whose billing is disabled.
    static let billingReasons: Set<String> = ["billingNotEnabled", "BILLING_DISABLED"]
    /// 403 reasons of an IAM refusal (Compute's own `forbidden`, and the newer error model's).
    static let iamReasons: Set<String> = ["forbidden", "insufficientPermissions", "IAM_PERMISSION_DENIED", "accessDenied"]

    static func envelope(_ body: [UInt8]) -> Compute.ErrorEnvelope.Body? {
        try? ComputeJSON.decoder.decode(Compute.ErrorEnvelope.self, from: body).error
    }

    /// `Required 'compute.addresses.use' permission for ...` → `compute.addresses.use`.
    static func requiredPermission(in message: String) -> String? {
        guard let start = message.firstRange(of: "Required '") else { return nil }
        let rest = message[start.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        let name = String(rest[..<end])
        return name.hasPrefix("compute.") || name.hasPrefix("iam.") ? name : nil
    }

    /// A refusal for lack of permission, naming the permission to grant (the one the API's
    /// message requires, else the method's own).
    static func permissionDenied(_ call: Call, message: String, detail: String) -> KubeIPError {
        let permission = requiredPermission(in: message) ?? call.permission
        return KubeIPError(.permissionDenied,
                           "Compute Engine refused \(call.permission) on \(call.resource) (\(detail)); grant the IAM permission \(permission) to kubeip's service account",
                           resource: permission)
    }

    /// Whether a 400 is the transient "resource is not ready" (another operation on the instance is running).
    static func isNotReady(_ body: Compute.ErrorEnvelope.Body?) -> Bool {
        body?.errors?.contains { $0.reason == "resourceNotReady" } ?? false
    }

    /// Translates a non-2xx answer (401 and 412 are handled by the caller before this). The
    /// error's ``KubeIPError/providerCode`` is the first of the answer's `reason`s.
    static func map(status: Int, body: Compute.ErrorEnvelope.Body?, call: Call) -> KubeIPError {
        var error = classify(status: status, body: body, call: call)
        error.providerCode = body?.errors?.compactMap(\.reason).first
        return error
    }

    private static func classify(status: Int, body: Compute.ErrorEnvelope.Body?, call: Call) -> KubeIPError {
        let apiMessage = body?.message ?? body?.errors?.first?.message ?? ""
        let detail = apiMessage.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(apiMessage)"
        switch status {
        case 429:
            return KubeIPError(.throttled, "Compute Engine is rate-limiting \(call.permission) (\(detail))", resource: call.permission)
        case 500...:
            return KubeIPError(.unavailable, "Compute Engine could not serve \(call.permission) (\(detail))", resource: call.permission)
        case 401:
            return KubeIPError(.authentication, "Compute Engine rejected the access token for \(call.permission) (\(detail))",
                               resource: call.permission)
        case 403:
            return forbidden(body, message: apiMessage, detail: detail, call: call)
        case 404:
            return KubeIPError(.notFound, "Compute Engine has no \(call.resource) (\(detail))", resource: call.resource)
        case 400 where call.namesSettings:
            let lowered = apiMessage.lowercased()
            let locations = Set(body?.errors?.compactMap { $0.location?.lowercased() } ?? [])
            if locations.contains("orderby") || lowered.contains("orderby") || lowered.contains("order by") || lowered.contains("sort") {
                return KubeIPError.invalid("order-by", "Compute Engine rejected the order: \(apiMessage.isEmpty ? "HTTP 400" : apiMessage); the API accepts 'name' or 'creationTimestamp desc'")
            }
            if locations.contains("filter") || lowered.contains("filter") {
                return KubeIPError.invalid("filter", "Compute Engine rejected the filter: \(apiMessage.isEmpty ? "HTTP 400" : apiMessage)")
            }
            return KubeIPError(.cloudAPI, "Compute Engine \(call.permission) failed (\(detail))", resource: call.permission)
        default:
            return KubeIPError(.cloudAPI, "Compute Engine \(call.permission) failed (\(detail))", resource: call.permission)
        }
    }

    /// A 403, by its reasons: a request quota or rate limit is `.throttled` (retried); a
    /// disabled API or billing is `.cloudAPI` (no grant helps); a missing scope or IAM
    /// permission is `.permissionDenied` naming what to give; any other refusal `.cloudAPI`.
    static func forbidden(_ body: Compute.ErrorEnvelope.Body?, message: String, detail: String, call: Call) -> KubeIPError {
        let reasons = body?.reasons ?? []
        let lowered = message.lowercased()
        if !reasons.isDisjoint(with: throttleReasons) {
            return KubeIPError(.throttled, "Compute Engine is rate-limiting \(call.permission) (\(detail))", resource: call.permission)
        }
        if lowered.contains("insufficient authentication scopes") || reasons.contains("ACCESS_TOKEN_SCOPE_INSUFFICIENT") {
            return KubeIPError(.permissionDenied,
                               "the access token lacks the compute scope for \(call.permission): give the VM the Compute Engine read-write (or cloud-platform) access scope, or use a service account key (\(detail))",
                               resource: call.permission)
        }
        if !reasons.isDisjoint(with: disabledServiceReasons) {
            return KubeIPError(.cloudAPI,
                               "the Compute Engine API is not enabled in project \(call.project): enable compute.googleapis.com there (\(detail))",
                               resource: "projects/\(call.project)")
        }
        if !reasons.isDisjoint(with: billingReasons) || (lowered.contains("billing") && lowered.contains("enable")) {
            return KubeIPError(.cloudAPI,
                               "billing is not enabled for project \(call.project): Compute Engine refuses \(call.permission) until it is (\(detail))",
                               resource: "projects/\(call.project)")
        }
        if reasons.isEmpty || !reasons.isDisjoint(with: iamReasons) || requiredPermission(in: message) != nil {
            return permissionDenied(call, message: message, detail: detail)
        }
        return KubeIPError(.cloudAPI, "Compute Engine refused \(call.permission) on \(call.resource) (\(detail))",
                           resource: call.permission)
    }

    /// Whether a failed operation (or 400) says the interface already has such an access config.
    static func isAccessConfigTaken(_ error: KubeIPError) -> Bool {
        let lowered = error.message.lowercased()
        return lowered.contains("at most one access config") || lowered.contains("already has an access config")
    }

    /// The error of an operation that finished DONE with `error`; nil when it succeeded.
    static func failure(of operation: Compute.Operation, call: Call, address: String?) -> (any Error)? {
        guard var error = classifyFailure(of: operation, call: call, address: address) else { return nil }
        if var core = error as? KubeIPError {
            core.providerCode = operation.error?.errors?.first?.code
            error = core
        }
        return error
    }

    private static func classifyFailure(of operation: Compute.Operation, call: Call, address: String?) -> (any Error)? {
        guard let items = operation.error?.errors, !items.isEmpty else { return nil }
        let first = items[0]
        let code = first.code ?? "UNKNOWN"
        let message = first.message ?? ""
        let detail = message.isEmpty ? code : "\(code): \(message)"
        if code == "IP_IN_USE_BY_ANOTHER_RESOURCE" {
            return KubeIPError(.conflict, "the address is already in use by another resource (\(detail))",
                               resource: address ?? call.resource, providerCode: code)
        }
        if code == "CONDITION_NOT_MET" || operation.httpErrorStatusCode == 412 {
            return GCPStaleFingerprint(resource: call.resource)
        }
        switch operation.httpErrorStatusCode {
        case 403 where code.uppercased().contains("QUOTA"):
            // A resource quota (addresses in use, say): no retry nor grant helps.
            return KubeIPError(.cloudAPI, "operation \(operation.name ?? "?") (\(call.permission) on \(call.resource)) exceeded a quota of project \(call.project): \(detail)",
                               resource: call.permission)
        case 403:
            return permissionDenied(call, message: message, detail: detail)
        case 404:
            return KubeIPError(.notFound, "\(call.permission) on \(call.resource) failed: \(detail)", resource: call.resource)
        default:
            return KubeIPError(.cloudAPI, "operation \(operation.name ?? "?") (\(call.permission) on \(call.resource)) failed: \(detail)",
                               resource: call.permission)
        }
    }
}
