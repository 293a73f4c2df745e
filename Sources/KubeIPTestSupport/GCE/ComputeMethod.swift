/// One Compute Engine v1 method the double serves, described as the discovery document
/// (`compute.v1.json`) describes it, so tests can hold the two side by side.
public struct ComputeMethod: Sendable, Hashable {
    /// The discovery id, e.g. `compute.addresses.list`.
    public let id: String
    /// `GET`, `POST` or `PATCH`.
    public let httpMethod: String
    /// The path template relative to the base URL, e.g. `projects/{project}/regions/{region}/addresses`.
    public let path: String
    /// The method's own query parameters (the standard ones are in ``standardQueryParameters``).
    public let queryParameters: [String]
    /// Query parameters the method requires.
    public let requiredQueryParameters: [String]
    /// The request body schema, when the method takes one.
    public let requestSchema: String?
    /// The response schema.
    public let responseSchema: String
    /// The IAM permission the double checks (see ``ComputeEngineDouble/deny(permission:)``);
    /// nil for a method anyone authenticated may call (`testIamPermissions`).
    public let permission: String?
    /// Whether the compute.readonly scope suffices.
    public let readOnly: Bool

    /// The path parameters, in template order.
    public var pathParameters: [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }

    /// The methods the double serves.
    public static let all: [ComputeMethod] = [
        ComputeMethod(id: "compute.addresses.list", httpMethod: "GET",
                      path: "projects/{project}/regions/{region}/addresses",
                      queryParameters: ["filter", "maxResults", "orderBy", "pageToken"], requiredQueryParameters: [],
                      requestSchema: nil, responseSchema: "AddressList", permission: "compute.addresses.list",
                      readOnly: true),
        ComputeMethod(id: "compute.addresses.get", httpMethod: "GET",
                      path: "projects/{project}/regions/{region}/addresses/{address}",
                      queryParameters: [], requiredQueryParameters: [],
                      requestSchema: nil, responseSchema: "Address", permission: "compute.addresses.get",
                      readOnly: true),
        ComputeMethod(id: "compute.addresses.testIamPermissions", httpMethod: "POST",
                      path: "projects/{project}/regions/{region}/addresses/{resource}/testIamPermissions",
                      queryParameters: [], requiredQueryParameters: [],
                      requestSchema: "TestPermissionsRequest", responseSchema: "TestPermissionsResponse",
                      permission: nil, readOnly: true),
        ComputeMethod(id: "compute.subnetworks.get", httpMethod: "GET",
                      path: "projects/{project}/regions/{region}/subnetworks/{subnetwork}",
                      queryParameters: ["views"], requiredQueryParameters: [],
                      requestSchema: nil, responseSchema: "Subnetwork", permission: "compute.subnetworks.get",
                      readOnly: true),
        ComputeMethod(id: "compute.instances.get", httpMethod: "GET",
                      path: "projects/{project}/zones/{zone}/instances/{instance}",
                      queryParameters: [], requiredQueryParameters: [],
                      requestSchema: nil, responseSchema: "Instance", permission: "compute.instances.get",
                      readOnly: true),
        ComputeMethod(id: "compute.instances.addAccessConfig", httpMethod: "POST",
                      path: "projects/{project}/zones/{zone}/instances/{instance}/addAccessConfig",
                      queryParameters: ["networkInterface", "requestId"], requiredQueryParameters: ["networkInterface"],
                      requestSchema: "AccessConfig", responseSchema: "Operation",
                      permission: "compute.instances.addAccessConfig", readOnly: false),
        ComputeMethod(id: "compute.instances.deleteAccessConfig", httpMethod: "POST",
                      path: "projects/{project}/zones/{zone}/instances/{instance}/deleteAccessConfig",
                      queryParameters: ["accessConfig", "networkInterface", "requestId"],
                      requiredQueryParameters: ["accessConfig", "networkInterface"],
                      requestSchema: nil, responseSchema: "Operation",
                      permission: "compute.instances.deleteAccessConfig", readOnly: false),
        ComputeMethod(id: "compute.instances.updateNetworkInterface", httpMethod: "PATCH",
                      path: "projects/{project}/zones/{zone}/instances/{instance}/updateNetworkInterface",
                      queryParameters: ["networkInterface", "requestId"], requiredQueryParameters: ["networkInterface"],
                      requestSchema: "NetworkInterface", responseSchema: "Operation",
                      permission: "compute.instances.updateNetworkInterface", readOnly: false),
        ComputeMethod(id: "compute.zoneOperations.get", httpMethod: "GET",
                      path: "projects/{project}/zones/{zone}/operations/{operation}",
                      queryParameters: [], requiredQueryParameters: [],
                      requestSchema: nil, responseSchema: "Operation", permission: "compute.zoneOperations.get",
                      readOnly: true),
        ComputeMethod(id: "compute.zoneOperations.wait", httpMethod: "POST",
                      path: "projects/{project}/zones/{zone}/operations/{operation}/wait",
                      queryParameters: [], requiredQueryParameters: [],
                      requestSchema: nil, responseSchema: "Operation", permission: "compute.zoneOperations.get",
                      readOnly: true),
    ]

    /// The standard query parameters every method takes that the double honours
    /// (`alt` only as `json`). The other standard ones (`fields`, `key`, `access_token`,
    /// `callback`, ...) are real but unimplemented here: the double answers 400 for them.
    public static let standardQueryParameters: [String] = ["alt", "prettyPrint", "quotaUser"]

    /// The document's patterns for path parameters, as the double enforces them (whole match).
    public static let pathParameterPatterns: [String: String] = [
        "project": #"(?:(?:[-a-z0-9]{1,63}\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?(?:[0-9]{1,19}|(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?))"#,
        "region": #"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"#,
        "zone": #"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"#,
        "address": #"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}"#,
        "instance": #"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}"#,
        "operation": #"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}"#,
        "resource": #"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}"#,
        "subnetwork": #"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}"#,
    ]

    /// Binds `segments` (the path after the base URL, split on `/`) to this method's
    /// template; nil when the shapes differ.
    func bind(_ segments: [String]) -> [String: String]? {
        let template = path.split(separator: "/", omittingEmptySubsequences: false)
        guard template.count == segments.count else { return nil }
        var values: [String: String] = [:]
        for (part, segment) in zip(template, segments) {
            if part.hasPrefix("{") {
                guard !segment.isEmpty else { return nil }
                values[String(part.dropFirst().dropLast())] = segment
            } else if part != segment {
                return nil
            }
        }
        return values
    }

    /// Whether `value` fully matches the document's pattern for path parameter `name`.
    static func pathValue(_ value: String, matches name: String) -> Bool {
        guard let pattern = pathParameterPatterns[name], let regex = try? Regex(pattern) else { return false }
        return (try? regex.wholeMatch(in: value)) != nil
    }
}
