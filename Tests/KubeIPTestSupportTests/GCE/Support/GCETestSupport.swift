import Foundation
import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
@testable import KubeIPTestSupport

/// The Compute v1 discovery document from ../shared/testdata, parsed once.
enum Discovery {
    /// `shared/testdata/gce/compute.v1.json`, found by walking up from this file (as the
    /// Kubernetes schemas are), so that neither this file's depth nor the checkout's matters.
    static let url: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("shared/testdata/gce/compute.v1.json")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        fatalError("no shared/testdata/gce/compute.v1.json above \(#filePath)")
    }()

    static let document: JSONValue = {
        let data = try! Data(contentsOf: url)
        return try! JSONValue(parsing: Array(data))
    }()

    /// `resources.<resource>.methods.<method>` for a discovery id `compute.<resource>.<method>`.
    static func method(_ id: String) -> JSONValue? {
        let parts = id.split(separator: ".")
        guard parts.count == 3 else { return nil }
        return document["resources"]?[String(parts[1])]?["methods"]?[String(parts[2])]
    }

    static func schema(_ name: String) -> JSONValue? { document["schemas"]?[name] }

    /// Every key path in `value` that schema `name` does not define (recursively through
    /// `$ref`, `items` and `additionalProperties`).
    static func undefinedFields(in value: JSONValue, schema name: String, at path: String = "") -> [String] {
        guard let schema = schema(name) else { return ["\(path): no schema \(name)"] }
        return undefined(value, against: schema, at: path.isEmpty ? name : path)
    }

    private static func undefined(_ value: JSONValue, against schema: JSONValue, at path: String) -> [String] {
        if let ref = schema["$ref"]?.stringValue { return undefinedFields(in: value, schema: ref, at: path) }
        switch value {
        case .object(let members):
            guard schema["type"]?.stringValue == "object" else { return ["\(path): an object where the schema says \(schema["type"]?.stringValue ?? "?")"] }
            var problems: [String] = []
            for (key, member) in members {
                if let property = schema["properties"]?[key] {
                    problems += undefined(member, against: property, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] {
                    problems += undefined(member, against: additional, at: "\(path).\(key)")
                } else {
                    problems.append("\(path).\(key)")
                }
            }
            return problems
        case .array(let items):
            guard schema["type"]?.stringValue == "array", let itemSchema = schema["items"] else {
                return ["\(path): an array where the schema says \(schema["type"]?.stringValue ?? "?")"]
            }
            return items.enumerated().flatMap { undefined($1, against: itemSchema, at: "\(path)[\($0)]") }
        case .string(let text):
            let type = schema["type"]?.stringValue
            // proto3 JSON writes 64-bit integers as strings; the document types them "string" + format.
            guard type == "string" else { return ["\(path): a string where the schema says \(type ?? "?")"] }
            if let allowed = schema["enum"]?.arrayValue?.compactMap(\.stringValue), !allowed.contains(text) {
                return ["\(path): \(text) is not in the enum"]
            }
            return []
        case .number:
            let type = schema["type"]?.stringValue
            return type == "integer" || type == "number" ? [] : ["\(path): a number where the schema says \(type ?? "?")"]
        case .bool:
            return schema["type"]?.stringValue == "boolean" ? [] : ["\(path): a boolean where the schema says otherwise"]
        case .null:
            return ["\(path): null"]
        }
    }
}

/// A double with one VM, its client and a token, on a manual clock.
struct GCEWorld {
    let double: ComputeEngineDouble
    let clock: ManualClock
    let vm: GCEDoubleClient
    let token: String
    static let base = "https://compute.googleapis.com/compute/v1/projects/kubeip-sim/"

    init(configuration: ComputeEngineDouble.Configuration = .init(), vmName: String = "vm-1",
         stackType: String = "IPV4_ONLY") async {
        clock = ManualClock()
        double = ComputeEngineDouble(configuration: configuration, clock: clock)
        await double.createInstance(name: vmName, stackType: stackType)
        vm = double.client(for: vmName)
        token = await double.issueToken()
    }

    /// Sends a Compute request (path relative to the project) with the world's token.
    func compute(_ method: String, _ path: String, body: JSONValue? = nil, token: String? = nil,
                 client: GCEDoubleClient? = nil, headers: [HTTPHeader] = []) async throws -> (status: Int, json: JSONValue, response: HTTPResponse) {
        var allHeaders = [HTTPHeader("Authorization", "Bearer \(token ?? self.token)")] + headers
        if body != nil { allHeaders.append(HTTPHeader("Content-Type", "application/json")) }
        let response = try await (client ?? vm).send(HTTPRequest(method: method, url: GCEWorld.base + path,
                                                                  headers: allHeaders, body: body?.bytes ?? []))
        return (response.status, (try? JSONValue(parsing: response.body)) ?? .null, response)
    }

    /// Sends a metadata request.
    func metadata(_ path: String, flavor: String? = "Google", client: GCEDoubleClient? = nil) async throws -> HTTPResponse {
        let headers = flavor.map { [HTTPHeader("Metadata-Flavor", $0)] } ?? []
        return try await (client ?? vm).send(HTTPRequest(url: "http://metadata.google.internal/computeMetadata/v1/" + path,
                                                         headers: headers))
    }

    /// addAccessConfig with a natIP (or ephemeral), returning the operation name.
    func addAccessConfig(_ instance: String = "vm-1", natIP: String? = nil, zone: String = "europe-west1-b",
                         token: String? = nil, client: GCEDoubleClient? = nil) async throws -> (Int, JSONValue) {
        var body: [String: JSONValue] = ["type": "ONE_TO_ONE_NAT", "name": "External NAT"]
        if let natIP { body["natIP"] = .string(natIP) }
        let result = try await compute("POST", "zones/\(zone)/instances/\(instance)/addAccessConfig?networkInterface=nic0",
                                       body: .object(body), token: token, client: client)
        return (result.status, result.json)
    }

    func deleteAccessConfig(_ instance: String = "vm-1", name: String = "External NAT",
                            zone: String = "europe-west1-b") async throws -> (Int, JSONValue) {
        let encoded = name.replacingOccurrences(of: " ", with: "%20")
        let result = try await compute("POST", "zones/\(zone)/instances/\(instance)/deleteAccessConfig?accessConfig=\(encoded)&networkInterface=nic0")
        return (result.status, result.json)
    }

    func operation(_ name: String, wait: Bool = false, zone: String = "europe-west1-b") async throws -> JSONValue {
        try await compute(wait ? "POST" : "GET", "zones/\(zone)/operations/\(name)\(wait ? "/wait" : "")").json
    }
}

extension JSONValue {
    /// A Google error body's `error.message`.
    var errorMessage: String { self["error"]?["message"]?.stringValue ?? "" }
}
