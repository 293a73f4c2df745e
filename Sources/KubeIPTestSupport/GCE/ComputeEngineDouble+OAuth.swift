import KubeIPHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Google's OAuth 2.0 token endpoint, for the JWT-bearer grant a service-account key file
/// makes (RFC 7523): a form POST with `grant_type` and an RS256-signed `assertion` whose
/// claims name the account (`iss`), the scopes, the endpoint (`aud`) and a lifetime of at
/// most an hour (`iat`, `exp`).
extension ComputeEngineDouble {
    static let jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    func serveTokenEndpoint(_ request: HTTPRequest, _ url: RequestURL) -> HTTPResponse {
        func oauthError(_ status: Int, _ error: String, _ description: String) -> HTTPResponse {
            let body: JSONValue = ["error": .string(error), "error_description": .string(description)]
            return HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", "application/json; charset=utf-8")],
                                body: body.bytes)
        }
        guard let endpoint = RequestURL(configuration.tokenURL), url.rawPath == endpoint.rawPath else {
            return oauthError(404, "not_found", "No OAuth endpoint at \(url.rawPath).")
        }
        guard request.method == "POST" else { return oauthError(405, "invalid_request", "The token endpoint takes POST.") }
        guard let type = request.header("Content-Type"),
              type.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            return oauthError(400, "invalid_request", "The body must be application/x-www-form-urlencoded.")
        }
        let form = RequestURL.formPairs(String(decoding: request.body, as: UTF8.self))
        let grant = form.first { $0.name == "grant_type" }?.value
        guard grant == Self.jwtBearerGrant else {
            return oauthError(400, "unsupported_grant_type", "Invalid grant_type: \(grant ?? "(none)").")
        }
        guard let assertion = form.first(where: { $0.name == "assertion" })?.value, !assertion.isEmpty else {
            return oauthError(400, "invalid_request", "Missing required parameter: assertion.")
        }
        receivedAssertions.append(assertion)
        switch checkAssertion(assertion) {
        case .failure(let reason):
            return oauthError(400, "invalid_grant", reason.reason)
        case .success(let (email, scopes)):
            let token = mintToken(scopes: scopes, email: email)
            let body: JSONValue = ["access_token": .string(token),
                                   "expires_in": .number(Double(Int(configuration.tokenLifetime.seconds) - 1)),
                                   "token_type": "Bearer"]
            return HTTPResponse(status: 200, headers: [HTTPHeader("Content-Type", "application/json; charset=utf-8")],
                                body: body.bytes)
        }
    }

    struct AssertionRejected: Error { var reason: String }

    /// Checks a JWT assertion; answers the issuing account and the granted scopes.
    private func checkAssertion(_ jwt: String) -> Result<(String, [String]), AssertionRejected> {
        func reject(_ reason: String) -> Result<(String, [String]), AssertionRejected> {
            .failure(AssertionRejected(reason: reason))
        }
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONValue(parsing: headerBytes), let claims = try? JSONValue(parsing: claimBytes) else {
            return reject("Invalid JWT: not three base64url-encoded parts of JSON.")
        }
        guard header["alg"]?.stringValue == "RS256" else { return reject("Invalid JWT: alg must be RS256.") }
        if let typ = header["typ"], typ.stringValue != "JWT" { return reject("Invalid JWT: typ must be JWT.") }
        guard let iss = claims["iss"]?.stringValue, iss == configuration.serviceAccountEmail else {
            return reject("Invalid JWT: iss must be the service account \(configuration.serviceAccountEmail).")
        }
        guard claims["aud"]?.stringValue == configuration.tokenURL else {
            return reject("Invalid JWT: aud must be \(configuration.tokenURL).")
        }
        guard let scope = claims["scope"]?.stringValue, !scope.split(separator: " ").isEmpty else {
            return reject("Invalid JWT: scope is missing.")
        }
        guard case .number(let iat)? = claims["iat"], case .number(let exp)? = claims["exp"] else {
            return reject("Invalid JWT: iat and exp must be numbers of seconds.")
        }
        let now = clock.now.timeIntervalSince1970
        guard exp > iat, exp - iat <= 3600, iat <= now + 300, exp > now else {
            return reject("Invalid JWT: the token must be short-lived (at most 60 minutes) and valid now; "
                          + "check iat and exp.")
        }
        if let pem = configuration.serviceAccountPublicKeyPEM {
            let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
            guard let key = RSAPublicKey(pem: pem) else { return reject("The double's public key PEM is unreadable.") }
            guard key.verifyRS256(signature: signature, message: signingInput) else {
                return reject("Invalid JWT Signature.")
            }
        }
        return .success((iss, scope.split(separator: " ").map(String.init)))
    }
}

/// Base64url without padding (RFC 4648 §5), as JWTs use it.
enum Base64URL {
    static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        guard text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
