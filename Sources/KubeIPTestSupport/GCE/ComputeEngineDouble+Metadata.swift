import KubeIPHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The GCE metadata server as a VM sees it: plain http, `Metadata-Flavor: Google` on every
/// request and every answer, text values, JSON only for the token.
extension ComputeEngineDouble {
    func serveMetadata(_ request: HTTPRequest, _ url: RequestURL, vm: String) -> HTTPResponse {
        func answer(_ status: Int, _ text: String, type: String = "application/text") -> HTTPResponse {
            HTTPResponse(status: status,
                         headers: [HTTPHeader("Metadata-Flavor", "Google"), HTTPHeader("Content-Type", type),
                                   HTTPHeader("Server", "Metadata Server for VM")],
                         body: Array(text.utf8))
        }
        guard request.method == "GET" else { return answer(405, "Method not allowed\n", type: "text/plain") }
        if request.header("X-Forwarded-For") != nil {
            return answer(403, "Requests carrying X-Forwarded-For are refused.\n", type: "text/plain")
        }
        guard request.header("Metadata-Flavor") == "Google" else {
            return answer(403, "Missing required header \"Metadata-Flavor\": \"Google\"\n", type: "text/plain")
        }
        guard let instance = instances[vm] else { return answer(404, "Not Found\n", type: "text/plain") }
        let path = url.rawPath
        let tokenPath = "/computeMetadata/v1/instance/service-accounts/default/token"
        for item in url.query {
            let allowed = item.name == "alt" || (item.name == "scopes" && path == tokenPath)
            guard allowed else { return answer(400, "Unsupported query parameter '\(item.name)'.\n", type: "text/plain") }
        }
        let alt = url.values("alt").last ?? "text"
        guard alt == "text" || alt == "json" else {
            return answer(400, "Invalid value for 'alt': '\(alt)'.\n", type: "text/plain")
        }
        let project = configuration.projectID
        let nic = instance.nic0
        let value: String?
        switch path {
        case "/": return answer(200, "computeMetadata/\n")
        case "/computeMetadata/", "/computeMetadata": return answer(200, "v1/\n")
        case "/computeMetadata/v1/", "/computeMetadata/v1": return answer(200, "instance/\nproject/\n")
        case "/computeMetadata/v1/project/project-id": value = project
        case "/computeMetadata/v1/project/numeric-project-id": value = configuration.projectNumber
        case "/computeMetadata/v1/instance/id": value = instance.id
        case "/computeMetadata/v1/instance/name": value = instance.name
        case "/computeMetadata/v1/instance/zone": value = "projects/\(configuration.projectNumber)/zones/\(instance.zone)"
        case "/computeMetadata/v1/instance/hostname": value = "\(instance.name).\(instance.zone).c.\(project).internal"
        case "/computeMetadata/v1/instance/network-interfaces/0/ip": value = nic.networkIP
        case "/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip":
            value = nic.accessConfigs.first?.natIP
        case "/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/type":
            value = nic.accessConfigs.first?.type
        case "/computeMetadata/v1/instance/service-accounts/default/email": value = instance.serviceAccountEmail
        case "/computeMetadata/v1/instance/service-accounts/default/scopes":
            value = instance.serviceAccountEmail == nil ? nil : instance.scopes.joined(separator: "\n") + "\n"
        case tokenPath:
            guard instance.serviceAccountEmail != nil else { return answer(404, "Not Found\n", type: "text/plain") }
            let requested = url.values("scopes").last.map {
                $0.split(separator: ",").map { String($0).trimmingSpaces() }
            } ?? instance.scopes
            let (token, expiresIn) = metadataToken(for: instance, scopes: requested)
            let json: JSONValue = ["access_token": .string(token), "expires_in": .number(Double(expiresIn)),
                                   "token_type": "Bearer"]
            return answer(200, json.serialized, type: "application/json")
        default:
            return answer(404, "Not Found\n", type: "text/plain")
        }
        guard let value else { return answer(404, "Not Found\n", type: "text/plain") }
        if alt == "json" {
            let json: JSONValue = path.hasSuffix("/id") || path.hasSuffix("numeric-project-id")
                ? .number(Double(value) ?? 0) : .string(value)
            return answer(200, json.serialized, type: "application/json")
        }
        return answer(200, value)
    }

    /// The VM's cached token for `scopes`, renewed when it has under five minutes left.
    private func metadataToken(for instance: GCEInstance, scopes: [String]) -> (String, Int) {
        let key = "\(instance.name)|\(scopes.sorted().joined(separator: " "))"
        if let cached = metadataTokens[key], let token = tokens[cached],
           token.expiry.timeIntervalSince(clock.now) > 300 {
            return (cached, Int(token.expiry.timeIntervalSince(clock.now)))
        }
        let token = mintToken(scopes: scopes, email: instance.serviceAccountEmail ?? configuration.serviceAccountEmail)
        metadataTokens[key] = token
        return (token, Int(configuration.tokenLifetime.seconds) - 1)
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String { trimmed(self) }
}
