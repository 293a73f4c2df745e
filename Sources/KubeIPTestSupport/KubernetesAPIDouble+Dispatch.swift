import KubeIPCore
import KubeIPHTTP
import KubeIPHTTPServer
import KubeIPSimulator

/// What a request asks for, as the apiserver's `RequestInfoFactory` reads the path.
struct KubernetesRequestInfo {
    var isResourceRequest: Bool
    var path: String
    var verb: String
    var group = ""
    var version = ""
    var namespace = ""
    var resource = ""
    var name = ""
    var subresource = ""
    /// Path segments past what the resource grammar allows (a 404).
    var extra = false

    init(method: String, path: String, query: HTTPServerRequest) {
        self.path = path
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map { QuotedText.percentDecoded($0) }
        var rest: ArraySlice<String>
        if segments.first == "api", segments.count >= 2 {
            version = segments[1]
            rest = segments.dropFirst(2)
        } else if segments.first == "apis", segments.count >= 3 {
            group = segments[1]
            version = segments[2]
            rest = segments.dropFirst(3)
        } else {
            isResourceRequest = false
            verb = method.lowercased()
            return
        }
        if rest.isEmpty {
            isResourceRequest = false
            verb = method.lowercased()
            return
        }
        isResourceRequest = true
        if rest.first == "namespaces", rest.count >= 2 {
            namespace = rest[rest.startIndex + 1]
            if rest.count == 2 {
                // `/namespaces/<ns>` is the Namespace object itself.
                resource = "namespaces"
                name = namespace
                namespace = ""
                rest = []
            } else {
                rest = rest.dropFirst(2)
            }
        }
        if let first = rest.first {
            resource = first
            rest = rest.dropFirst()
            if let second = rest.first { name = second; rest = rest.dropFirst() }
            if let third = rest.first { subresource = third; rest = rest.dropFirst() }
            extra = !rest.isEmpty
        } else if resource == "namespaces", !name.isEmpty, path.hasSuffix("/status") {
            subresource = "status"
        }
        let watch = ["true", "1"].contains(query.query("watch")?.lowercased() ?? "")
        switch method {
        case "GET", "HEAD": verb = name.isEmpty ? (watch ? "watch" : "list") : (watch ? "watch" : "get")
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = name.isEmpty ? "deletecollection" : "delete"
        default: verb = method.lowercased()
        }
    }

    func attributes(user: String) -> KubernetesRequestAttributes {
        KubernetesRequestAttributes(user: user, verb: verb, apiGroup: group, resource: resource, subresource: subresource,
                                    namespace: namespace, name: name, path: path, isResourceRequest: isResourceRequest)
    }
}

extension KubernetesAPIDouble {
    /// Serves one request as the apiserver would: authentication, authorization, injected
    /// faults, then the handler. Paths under `/_double/` are the test hooks (no token needed).
    public func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        if request.path == "/_double" || request.path.hasPrefix("/_double/") { return serveAdmin(request) }
        let info = KubernetesRequestInfo(method: request.method, path: request.path, query: request)

        // Authentication: a bearer token the configuration knows.
        let header = request.header("Authorization") ?? ""
        let token = header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)).trimmingSpacesAround : ""
        guard !token.isEmpty, let user = configuration.users[token] else {
            var attributes = info.attributes(user: "system:anonymous")
            attributes.status = 401
            requests.append(attributes)
            return respond(KubernetesStatusError.unauthorized)
        }
        var attributes = info.attributes(user: user.name)
        let index = requests.count
        requests.append(attributes)
        warnings = []
        var response = serve(request, info: info, user: user, attributes: attributes)
        // `Warning: 299 - "..."`, one header per warning (as the apiserver's warning recorder writes them).
        response.headers += warnings.map { HTTPHeader("Warning", "299 - \(goQuote($0))") }
        warnings = []
        attributes.status = response.status
        requests[index] = attributes
        return response
    }

    private func serve(_ request: HTTPServerRequest, info: KubernetesRequestInfo, user: KubernetesUser,
                       attributes: KubernetesRequestAttributes) -> HTTPServerResponse {
        // Authorization.
        if let rbac = configuration.rbac, !rbac.allows(user, attributes) {
            let resource = GroupResource(group: attributes.apiGroup, resource: attributes.resource)
            if !attributes.isResourceRequest {
                return respond(KubernetesStatusError(code: 403, reason: "Forbidden",
                                                     message: "forbidden: \(attributes.forbiddenMessage)", details: [:]))
            }
            return respond(KubernetesStatusError.forbidden(resource, attributes.name, attributes.forbiddenMessage))
        }
        if let fault = takeFault(matching: attributes) { return respond(fault) }
        guard info.isResourceRequest else { return serveNonResource(request, info: info) }
        do {
            return try serveResource(request, info: info, user: user)
        } catch {
            return respond(error)
        }
    }

    private func takeFault(matching attributes: KubernetesRequestAttributes) -> KubernetesStatusError? {
        guard attributes.isResourceRequest else { return nil }
        let combined = attributes.subresource.isEmpty ? attributes.resource : "\(attributes.resource)/\(attributes.subresource)"
        guard let index = faults.firstIndex(where: { fault in
            fault.remaining > 0 && (fault.verb == nil || fault.verb == attributes.verb)
                && (fault.resource == nil || fault.resource == combined) && (fault.name == nil || fault.name == attributes.name)
        }) else { return nil }
        faults[index].remaining -= 1
        let fault = faults[index]
        if fault.remaining <= 0 { faults.remove(at: index) }
        let resource = GroupResource(group: attributes.apiGroup, resource: attributes.resource)
        var error: KubernetesStatusError
        switch fault.status {
        case 409:
            error = .staleResourceVersion(resource, attributes.name)
        case 429:
            // The max-in-flight filter's answer.
            error = KubernetesStatusError(code: 429, reason: "TooManyRequests",
                                          message: "Too many requests, please try again later.",
                                          details: ["retryAfterSeconds": .number(Double(fault.retryAfter ?? 1))])
        case 500:
            error = KubernetesStatusError(code: 500, reason: "InternalError",
                                          message: "Internal error occurred: injected failure",
                                          details: ["causes": [["message": "injected failure"]]])
        case 503:
            error = KubernetesStatusError(code: 503, reason: "ServiceUnavailable", message: "injected failure")
        case 504:
            error = KubernetesStatusError(code: 504, reason: "Timeout",
                                          message: "Timeout: request did not complete within the allotted timeout")
        default:
            error = KubernetesStatusError(code: fault.status, reason: "", message: "injected failure \(fault.status)")
        }
        if let seconds = fault.retryAfter ?? (fault.status == 429 ? 1 : nil) {
            error.headers.append(("Retry-After", String(seconds)))
        }
        return error
    }

    // MARK: Non-resource paths

    private func serveNonResource(_ request: HTTPServerRequest, info: KubernetesRequestInfo) -> HTTPServerResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return respond(KubernetesStatusError(code: 405, reason: "MethodNotAllowed",
                                                 message: "the server does not allow this method on the requested resource",
                                                 details: [:]))
        }
        let segments = request.path.split(separator: "/").map(String.init)
        switch segments {
        case ["version"]:
            return respond(KubernetesDiscovery.version(buildDate: KubernetesTime.formatTime(startedAt)))
        case ["api"]:
            return respond(KubernetesDiscovery.coreVersions(serverAddress: configuration.serverAddress))
        case ["apis"]:
            return respond(KubernetesDiscovery.groupList)
        case ["healthz"], ["livez"], ["readyz"]:
            return HTTPServerResponse.text("ok")
        case ["openapi", "v3"]:
            return respond(KubernetesDiscovery.openAPIRoot)
        default:
            break
        }
        if segments.count == 2, segments[0] == "api", let list = KubernetesDiscovery.resourceList(group: "", version: segments[1]) {
            return respond(list)
        }
        if segments.count == 2, segments[0] == "apis", let group = KubernetesDiscovery.group(segments[1]) {
            return respond(group)
        }
        if segments.count == 3, segments[0] == "apis",
           let list = KubernetesDiscovery.resourceList(group: segments[1], version: segments[2]) {
            return respond(list)
        }
        if segments.count > 2, segments[0] == "openapi", segments[1] == "v3",
           let document = KubernetesDiscovery.openAPIDocument(segments.dropFirst(2).joined(separator: "/")) {
            return respond(document)
        }
        return respond(KubernetesStatusError.pathNotFound)
    }

    // MARK: Responses

    func respond(_ body: JSONValue, status: Int = 200, headers: [HTTPHeader] = []) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [HTTPHeader("Content-Type", "application/json")] + headers,
                           body: body.bytes)
    }

    func respond(_ error: any Error) -> HTTPServerResponse {
        let status = error as? KubernetesStatusError
            ?? KubernetesStatusError(code: 500, reason: "InternalError", message: "Internal error occurred: \(error)")
        return respond(status.body, status: status.code, headers: status.headers.map { HTTPHeader($0.0, $0.1) })
    }
}

extension String {
    /// The text without surrounding spaces and tabs.
    var trimmingSpacesAround: String { QuotedText.trimmingBlanks(self) }
}
