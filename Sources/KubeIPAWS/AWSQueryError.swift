import KubeIPCore
import KubeIPHTTP

/// The error of an AWS Query API answer (EC2's `Response/Errors/Error`, STS's `ErrorResponse/Error`)
/// and its translation to ``KubeIPError``.
enum AWSQueryError {
    static let throttling: Set<String> = [
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "RequestThrottled",
        "RequestThrottledException", "TooManyRequestsException", "PriorRequestNotComplete",
    ]
    static let unavailable: Set<String> = [
        "InternalError", "InternalFailure", "Unavailable", "ServiceUnavailable", "ServiceUnavailableException",
        "RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
    ]
    static let authentication: Set<String> = [
        "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
        "IncompleteSignature", "MissingAuthenticationToken", "UnrecognizedClientException", "InvalidAccessKeyId",
        "InvalidToken", "InvalidIdentityToken", "RequestExpired", "AuthFailure.ServiceLinkedRoleCreationNotPermitted",
    ]
    static let permission: Set<String> = ["UnauthorizedOperation", "AccessDenied", "AccessDeniedException"]
    static let notFound: Set<String> = ["InvalidAllocationID.NotFound", "InvalidAssociationID.NotFound",
                                        "InvalidNetworkInterfaceID.NotFound", "InvalidAddress.NotFound"]
    static let filterCodes: Set<String> = ["InvalidParameterValue", "InvalidFilter", "InvalidParameter",
                                           "InvalidParameterCombination"]

    /// `text` with every secret of at least 8 characters replaced by `<redacted>`, longest first,
    /// so that nothing a service echoes back (a key, a token, a piece of one) reaches a log.
    static func scrub(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets.filter({ $0.count >= 8 }).sorted(by: { $0.count > $1.count }) {
            result = result.replacing(secret, with: "<redacted>")
        }
        return result
    }

    /// Code and message of an error document.
    static func codeAndMessage(_ document: AWSXMLElement?) -> (code: String, message: String)? {
        guard let error = document?.first("Error"), let code = error.value("Code"), !code.isEmpty else { return nil }
        return (code, error.value("Message") ?? "")
    }

    /// The request id from the headers or the document.
    static func requestID(response: HTTPResponse, document: AWSXMLElement?) -> String? {
        if let id = response.header("x-amzn-requestid") ?? response.header("x-amz-request-id"), !id.isEmpty { return id }
        for name in ["RequestID", "RequestId", "requestId"] {
            if let id = document?.first(name)?.text.trimmedWhitespace, !id.isEmpty { return id }
        }
        return nil
    }

    /// The request id of an answer, from its headers or its XML.
    static func requestID(response: HTTPResponse) -> String? {
        requestID(response: response, document: try? AWSXML.parse(response.body))
    }

    /// The parsed document of a 2xx answer; otherwise the translated error.
    static func document(_ response: HTTPResponse, service: String, action: String) throws -> AWSXMLElement {
        let document = try? AWSXML.parse(response.body)
        guard (200..<300).contains(response.status) else {
            throw map(status: response.status, document: document, service: service, action: action)
        }
        guard let document else {
            throw KubeIPError(.cloudAPI, "\(service.uppercased()) answered \(action) with a body that is not XML",
                              resource: "\(service):\(action)")
        }
        return document
    }

    /// Translates a non-2xx answer. `service` is the IAM prefix (`ec2`, `sts`). The error's
    /// ``KubeIPError/providerCode`` is AWS's error `Code`, when the answer had one.
    static func map(status: Int, document: AWSXMLElement?, service: String, action: String) -> KubeIPError {
        var error = classify(status: status, document: document, service: service, action: action)
        error.providerCode = codeAndMessage(document)?.0
        return error
    }

    private static func classify(status: Int, document: AWSXMLElement?, service: String, action: String) -> KubeIPError {
        let resource = "\(service):\(action)"
        let serviceName = service.uppercased()
        guard let (code, message) = codeAndMessage(document) else {
            let what = "\(serviceName) answered \(action) with HTTP \(status) and no \(serviceName) error"
            switch status {
            case 429: return KubeIPError(.throttled, what, resource: resource)
            case 500...: return KubeIPError(.unavailable, what, resource: resource)
            case 401: return KubeIPError(.authentication, what, resource: resource)
            case 403: return KubeIPError(.permissionDenied, what, resource: resource)
            default: return KubeIPError(.cloudAPI, what, resource: resource)
            }
        }
        let detail = message.isEmpty ? code : "\(code): \(message)"
        if throttling.contains(code) {
            return KubeIPError(.throttled, "\(serviceName) is throttling \(action) (\(detail))", resource: resource)
        }
        if unavailable.contains(code) {
            return KubeIPError(.unavailable, "\(serviceName) could not serve \(action) (\(detail))", resource: resource)
        }
        if authentication.contains(code) {
            var hint = ""
            if code == "RequestExpired" || code == "SignatureDoesNotMatch" { hint = "; check the system clock and the secret key" }
            if code == "ExpiredToken" || code == "ExpiredTokenException" { hint = "; the temporary credentials have expired" }
            return KubeIPError(.authentication, "AWS rejected the credentials for \(resource) (\(detail))\(hint)",
                               resource: resource)
        }
        if permission.contains(code) {
            let fix = service == "sts" ? "check the role's trust policy" : "grant it in the instance role's policy"
            return KubeIPError(.permissionDenied, "AWS refused \(resource): \(message.isEmpty ? code : message); \(fix)",
                               resource: resource)
        }
        if code == "Resource.AlreadyAssociated" {
            return KubeIPError(.conflict, "the address is already associated elsewhere (\(detail))", resource: resource)
        }
        if notFound.contains(code) {
            return KubeIPError(.notFound, "\(serviceName) \(action): \(detail)", resource: resource)
        }
        // Only DescribeAddresses carries the user's filter; elsewhere these codes are plain API errors.
        if action == "DescribeAddresses" && filterCodes.contains(code) {
            return KubeIPError(.invalidSetting, "EC2 rejected the filter: \(message)", setting: "filter")
        }
        if status >= 500 {
            return KubeIPError(.unavailable, "\(serviceName) could not serve \(action) (HTTP \(status), \(detail))",
                               resource: resource)
        }
        return KubeIPError(.cloudAPI, "\(serviceName) \(action) failed: \(detail)", resource: resource)
    }
}
