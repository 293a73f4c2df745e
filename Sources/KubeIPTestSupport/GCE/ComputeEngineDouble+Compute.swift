import KubeIPCore
import KubeIPHTTP
import KubeIPSimulator
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A request that has passed routing, authentication and parameter checks.
struct ComputeCall: Sendable {
    var method: ComputeMethod
    var path: [String: String]
    var query: [String: String]
    var body: JSONValue
    var token: ComputeEngineDouble.IssuedToken
}

extension ComputeEngineDouble {
    /// The Compute API: routing, then the checks the real frontend makes, then the method.
    func serveCompute(_ request: HTTPRequest, _ url: RequestURL, record: Int) async -> HTTPResponse {
        do throws(GoogleErrorResponse) {
            let call = try admit(request, url, record: record)
            let answer: JSONValue
            switch call.method.id {
            case "compute.addresses.list": answer = try listAddresses(call)
            case "compute.addresses.get": answer = try getAddress(call)
            case "compute.addresses.testIamPermissions": answer = try testAddressPermissions(call)
            case "compute.subnetworks.get": answer = try getSubnetwork(call)
            case "compute.instances.get": answer = render(try instance(call))
            case "compute.instances.addAccessConfig": answer = try addAccessConfig(call)
            case "compute.instances.deleteAccessConfig": answer = try deleteAccessConfig(call)
            case "compute.instances.updateNetworkInterface": answer = try updateNetworkInterface(call)
            case "compute.zoneOperations.get": answer = render(try operationRecord(call).operation)
            case "compute.zoneOperations.wait": answer = try await waitOperation(call)
            default: throw GoogleErrorResponse.urlNotFound(url.rawPath)
            }
            return HTTPResponse(status: 200, headers: [HTTPHeader("Content-Type", "application/json; charset=UTF-8")],
                                body: answer.bytes)
        } catch {
            return error.response
        }
    }

    // MARK: Admission

    private func admit(_ request: HTTPRequest, _ url: RequestURL, record: Int) throws(GoogleErrorResponse) -> ComputeCall {
        let basePath = RequestURL(configuration.computeBaseURL)?.rawPath ?? "/"
        let relative = String(url.rawPath.dropFirst(basePath.count))
        let segments = relative.split(separator: "/", omittingEmptySubsequences: false).map { RequestURL.percentDecode($0) }
        let shaped = ComputeMethod.all.compactMap { method in method.bind(segments).map { (method, $0) } }
        guard let (method, pathValues) = shaped.first(where: { $0.0.httpMethod == request.method.uppercased() }) else {
            throw GoogleErrorResponse.urlNotFound("\(request.method) \(url.rawPath)")
        }
        updateRecord(record) { $0.methodID = method.id }

        let token = try authenticate(request, method: method)

        for name in method.pathParameters.sorted() {
            let value = pathValues[name]!
            guard ComputeMethod.pathValue(value, matches: name) else {
                throw .badRequest("Invalid value for field '\(name)': '\(value)'. Must be a match of regex "
                                  + "'\(ComputeMethod.pathParameterPatterns[name]!)'")
            }
        }
        let query = try checkQuery(url, method: method)
        let body = try checkBody(request, method: method)

        guard pathValues["project"] == configuration.projectID || pathValues["project"] == configuration.projectNumber else {
            throw .notFound("projects/\(pathValues["project"]!)")
        }
        if let permission = method.permission, deniedPermissions.contains(permission) {
            let resource = relative.split(separator: "/").prefix(6).joined(separator: "/")
            throw .forbidden("Required '\(permission)' permission for '\(resource)'")
        }
        return ComputeCall(method: method, path: pathValues, query: query, body: body, token: token)
    }

    private func authenticate(_ request: HTTPRequest, method: ComputeMethod) throws(GoogleErrorResponse) -> IssuedToken {
        var unauthenticated = GoogleErrorResponse(
            status: 401, message: "Request is missing valid authentication credentials: expected an OAuth 2 access "
                + "token the double issued, in 'Authorization: Bearer <token>'.", reason: "authError")
        unauthenticated.headers = [HTTPHeader("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\"")]
        guard let header = request.header("Authorization"), header.hasPrefix("Bearer ") else { throw unauthenticated }
        let value = String(header.dropFirst("Bearer ".count))
        guard let token = tokens[value], clock.now < token.expiry else { throw unauthenticated }
        let scopes = Set(token.scopes)
        let writable = scopes.contains(Self.cloudPlatformScope) || scopes.contains(Self.computeScope)
        let readable = writable || scopes.contains(Self.computeReadOnlyScope)
        guard method.readOnly ? readable : writable else {
            throw .forbidden("Request had insufficient authentication scopes for \(method.id).",
                             reason: "insufficientPermissions")
        }
        return token
    }

    private func checkQuery(_ url: RequestURL, method: ComputeMethod) throws(GoogleErrorResponse) -> [String: String] {
        let unimplemented: Set<String> = ["$.xgafv", "access_token", "callback", "fields", "key", "oauth_token",
                                          "uploadType", "upload_protocol", "userIp"]
        var values: [String: String] = [:]
        for item in url.query {
            if unimplemented.contains(item.name) {
                throw .badRequest("The standard parameter '\(item.name)' is not implemented by the double.")
            }
            guard method.queryParameters.contains(item.name) || ComputeMethod.standardQueryParameters.contains(item.name) else {
                throw .badRequest("Unknown query parameter '\(item.name)': \(method.id) defines no such parameter.")
            }
            guard values[item.name] == nil else {
                throw .badRequest("Query parameter '\(item.name)' given more than once.")
            }
            values[item.name] = item.value
        }
        if let alt = values["alt"], alt != "json" {
            throw .badRequest("Invalid value for parameter 'alt': '\(alt)' (the double speaks json only).")
        }
        if let pretty = values["prettyPrint"], pretty != "true" && pretty != "false" {
            throw .badRequest("Invalid value for parameter 'prettyPrint': '\(pretty)'.")
        }
        for name in method.requiredQueryParameters where (values[name] ?? "").isEmpty {
            throw .badRequest("Required parameter '\(name)' is missing.", reason: "required")
        }
        if let id = values["requestId"], !Self.isValidRequestID(id) {
            throw .badRequest("Invalid value for field 'requestId': '\(id)'. Must be a non-zero UUID.")
        }
        return values
    }

    private func checkBody(_ request: HTTPRequest, method: ComputeMethod) throws(GoogleErrorResponse) -> JSONValue {
        let text = trimmed(String(decoding: request.body, as: UTF8.self))
        guard let schema = method.requestSchema else {
            guard text.isEmpty || text == "{}" else {
                throw .badRequest("\(method.id) takes no request body.")
            }
            return .object([:])
        }
        if text.isEmpty { return .object([:]) }
        guard let type = request.header("Content-Type"), type.lowercased().hasPrefix("application/json") else {
            throw .badRequest("A \(schema) body must be sent as Content-Type: application/json.")
        }
        let body: JSONValue
        do {
            body = try JSONValue(parsing: request.body)
        } catch {
            throw .badRequest("Invalid JSON payload received: \(error.description).")
        }
        try RequestBodySchema.validate(body, as: schema)
        return body
    }

    static func isValidRequestID(_ id: String) -> Bool {
        let groups = id.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12],
              groups.allSatisfy({ $0.allSatisfy(\.isHexDigit) }) else { return false }
        return id.contains { $0 != "0" && $0 != "-" }
    }

    // MARK: Lookups

    func checkRegion(_ call: ComputeCall) throws(GoogleErrorResponse) {
        let region = call.path["region"]!
        guard region == configuration.region else {
            throw .badRequest("Invalid value for field 'region': '\(region)'. Unknown region.")
        }
    }

    private func checkZone(_ call: ComputeCall) throws(GoogleErrorResponse) -> String {
        let zone = call.path["zone"]!
        guard configuration.zones.contains(zone) else {
            throw .badRequest("Invalid value for field 'zone': '\(zone)'. Unknown zone.")
        }
        return zone
    }

    private func instance(_ call: ComputeCall) throws(GoogleErrorResponse) -> GCEInstance {
        let zone = try checkZone(call)
        let key = call.path["instance"]!
        guard let found = instances[key] ?? instances.values.first(where: { $0.id == key }), found.zone == zone else {
            throw .notFound("projects/\(configuration.projectID)/zones/\(zone)/instances/\(key)")
        }
        return found
    }

    private func operationRecord(_ call: ComputeCall) throws(GoogleErrorResponse) -> OperationRecord {
        let zone = try checkZone(call)
        let key = call.path["operation"]!
        guard let record = operations[key] ?? operations.values.first(where: { $0.operation.id == key }),
              record.operation.zone == zone else {
            throw .notFound("projects/\(configuration.projectID)/zones/\(zone)/operations/\(key)")
        }
        return record
    }

    // MARK: Addresses

    private func listAddresses(_ call: ComputeCall) throws(GoogleErrorResponse) -> JSONValue {
        try checkRegion(call)
        let filterText = call.query["filter"] ?? ""
        let filter = trimmed(filterText).isEmpty ? nil : try AddressFilter(filterText)
        let orderBy = call.query["orderBy"] ?? ""
        guard ["", "name", "creationTimestamp desc"].contains(orderBy) else {
            throw .badRequest("Invalid value for field 'orderBy': '\(orderBy)'. Only 'name' and "
                              + "'creationTimestamp desc' are supported.")
        }
        var pageSize = configuration.defaultPageSize
        if let text = call.query["maxResults"] {
            guard let value = Int(text), (0...500).contains(value) else {
                throw .badRequest("Invalid value for field 'maxResults': '\(text)'. Must be in the range [0, 500].")
            }
            if value > 0 { pageSize = value }
        }
        let signature = String(fnv1a("\(filterText)|\(orderBy)|\(configuration.region)") & 0xFFFF_FFFF, radix: 16)
        var offset = 0
        if let token = call.query["pageToken"], !token.isEmpty {
            let parts = token.split(separator: ".")
            guard parts.count == 3, parts[0] == "sim", let value = Int(parts[1]), value >= 0, parts[2] == signature else {
                throw .badRequest("Invalid value for field 'pageToken': '\(token)'. Invalid page token.")
            }
            offset = value
        }
        var matching = addresses.values.filter { $0.region == configuration.region }
        if let filter { matching = matching.filter { address in filter.matches { fieldValue(address, $0) } } }
        if orderBy == "creationTimestamp desc" {
            matching.sort { ($0.creationTimestamp, $1.name) > ($1.creationTimestamp, $0.name) }
        } else {
            matching.sort { $0.name < $1.name }
        }
        let page = Array(matching.dropFirst(offset).prefix(pageSize))
        var list: [String: JSONValue] = [
            "kind": "compute#addressList",
            "id": .string("projects/\(configuration.projectID)/regions/\(configuration.region)/addresses"),
            "selfLink": .string("\(regionURL)/addresses"),
        ]
        if !page.isEmpty { list["items"] = .array(page.map(render)) }
        if offset + page.count < matching.count {
            list["nextPageToken"] = .string("sim.\(offset + page.count).\(signature)")
        }
        return .object(list)
    }

    /// A field of an address as the filter reads it; nil when absent.
    private func fieldValue(_ address: GCEAddress, _ field: String) -> String? {
        if field.hasPrefix("labels.") { return address.labels[String(field.dropFirst("labels.".count))] }
        switch field {
        case "name": return address.name
        case "address": return address.address
        case "status": return address.status
        case "addressType": return address.addressType
        case "ipVersion": return address.ipVersion
        case "networkTier": return address.networkTier
        case "prefixLength": return address.prefixLength.map(String.init)
        case "ipv6EndpointType": return address.ipv6EndpointType
        case "description": return address.description
        case "id": return address.id
        case "kind": return "compute#address"
        case "selfLink": return address.selfLink
        case "region": return regionURL
        case "creationTimestamp": return GCETimestamp.format(address.creationTimestamp)
        default: return nil
        }
    }

    private func getAddress(_ call: ComputeCall) throws(GoogleErrorResponse) -> JSONValue {
        render(try regionalAddress(call, key: call.path["address"]!))
    }

    /// The address of this region named (or numbered) `key`; 404 when there is none.
    func regionalAddress(_ call: ComputeCall, key: String) throws(GoogleErrorResponse) -> GCEAddress {
        try checkRegion(call)
        guard let address = addresses[key] ?? addresses.values.first(where: { $0.id == key }),
              address.region == configuration.region else {
            throw .notFound("projects/\(configuration.projectID)/regions/\(configuration.region)/addresses/\(key)")
        }
        return address
    }

    // MARK: Mutations

    private func checkInterface(_ call: ComputeCall, _ instance: GCEInstance) throws(GoogleErrorResponse) {
        let nic = call.query["networkInterface"]!
        guard nic == instance.nic0.name else {
            throw .badRequest("Invalid value for field 'networkInterface': '\(nic)'. "
                              + "The instance has no network interface of that name.")
        }
    }

    /// The earlier operation of a repeated `requestId`, answered again instead of acting twice.
    private func repeatedRequest(_ call: ComputeCall) -> JSONValue? {
        guard let id = call.query["requestId"], let name = operationsByRequestID[id],
              let record = operations[name] else { return nil }
        return render(record.operation)
    }

    /// The reserved address an access config names, checked for family and type.
    private func reservedAddress(ip: String, ipv6: Bool, field: String) throws(GoogleErrorResponse) -> GCEAddress {
        guard let address = addresses.values.first(where: { $0.address == ip && $0.region == configuration.region }) else {
            throw .badRequest("Invalid value for field '\(field)': '\(ip)'. No address '\(ip)' is reserved in region "
                              + "'\(configuration.region)' of this project.")
        }
        if deniedPermissions.contains(Self.addressUsePermission) {
            throw .forbidden("Required '\(Self.addressUsePermission)' permission for "
                             + "'projects/\(configuration.projectID)/regions/\(address.region)/addresses/\(address.name)'")
        }
        guard address.addressType == "EXTERNAL", address.isIPv6 == ipv6 else {
            throw .badRequest("Invalid value for field '\(field)': '\(ip)'. The address '\(address.name)' is not an "
                              + "external \(ipv6 ? "IPv6" : "IPv4") address.")
        }
        return address
    }

    private func addAccessConfig(_ call: ComputeCall) throws(GoogleErrorResponse) -> JSONValue {
        let instance = try instance(call)
        try checkInterface(call, instance)
        if let earlier = repeatedRequest(call) { return earlier }
        let body = call.body
        let type = body["type"]?.stringValue ?? "ONE_TO_ONE_NAT"
        let nic = instance.nic0
        let ipv6 = type == "DIRECT_IPV6"
        var config = GCEAccessConfig(type: type, name: body["name"]?.stringValue ?? (ipv6 ? "External IPv6" : "External NAT"),
                                     networkTier: "PREMIUM", setPublicPtr: body["setPublicPtr"]?.boolValue,
                                     publicPtrDomainName: body["publicPtrDomainName"]?.stringValue, isEphemeral: true)
        var addressName: String?
        if ipv6 {
            guard body["natIP"]?.stringValue == nil else {
                throw .badRequest("Invalid value for field 'resource.natIP': natIP applies to ONE_TO_ONE_NAT access configs only.")
            }
            guard nic.stackType == "IPV4_IPV6" else {
                throw .badRequest("Invalid value for field 'resource.type': 'DIRECT_IPV6'. The network interface's "
                                  + "stackType is \(nic.stackType).")
            }
            guard nic.ipv6AccessConfigs.isEmpty else { throw Self.atMostOne }
            if let ip = body["externalIpv6"]?.stringValue {
                let address = try reservedAddress(ip: ip, ipv6: true, field: "resource.externalIpv6")
                try checkPrefix(body["externalIpv6PrefixLength"]?.intValue, address, field: "resource.externalIpv6PrefixLength")
                config.externalIpv6 = ip
                config.externalIpv6PrefixLength = address.prefixLength ?? 96
                config.networkTier = try tier(body["networkTier"]?.stringValue, address, field: "resource.networkTier")
                config.isEphemeral = false
                addressName = address.name
            }
        } else {
            guard body["externalIpv6"]?.stringValue == nil, body["externalIpv6PrefixLength"] == nil else {
                throw .badRequest("Invalid value for field 'resource.externalIpv6': IPv6 fields apply to DIRECT_IPV6 "
                                  + "access configs only.")
            }
            guard nic.accessConfigs.isEmpty else { throw Self.atMostOne }
            if let ip = body["natIP"]?.stringValue {
                let address = try reservedAddress(ip: ip, ipv6: false, field: "resource.natIP")
                config.natIP = ip
                config.networkTier = try tier(body["networkTier"]?.stringValue, address, field: "resource.networkTier")
                config.isEphemeral = false
                addressName = address.name
            } else if let tier = body["networkTier"]?.stringValue {
                config.networkTier = tier
            }
        }
        guard !(nic.accessConfigs + nic.ipv6AccessConfigs).contains(where: { $0.name == config.name }) else {
            throw .badRequest("Invalid value for field 'resource.name': '\(config.name)'. The network interface "
                              + "already has an access config of that name.")
        }
        return startOperation("addAccessConfig", on: instance, call: call,
                              change: .addAccessConfig(instance: instance.name, config: config, addressName: addressName))
    }

    static let atMostOne = GoogleErrorResponse.badRequest(
        "Invalid value for field 'resource': a network interface has at most one access config of each type "
            + "(ONE_TO_ONE_NAT, DIRECT_IPV6).")

    private func checkPrefix(_ given: Int?, _ address: GCEAddress, field: String) throws(GoogleErrorResponse) {
        if let given, given != (address.prefixLength ?? 96) {
            throw .badRequest("Invalid value for field '\(field)': '\(given)'. The address '\(address.name)' is a "
                              + "/\(address.prefixLength ?? 96).")
        }
    }

    private func tier(_ given: String?, _ address: GCEAddress, field: String) throws(GoogleErrorResponse) -> String {
        if let given, given != address.networkTier {
            throw .badRequest("Invalid value for field '\(field)': '\(given)'. The address '\(address.name)' is in "
                              + "network tier \(address.networkTier).")
        }
        return address.networkTier
    }

    private func deleteAccessConfig(_ call: ComputeCall) throws(GoogleErrorResponse) -> JSONValue {
        let instance = try instance(call)
        try checkInterface(call, instance)
        if let earlier = repeatedRequest(call) { return earlier }
        let name = call.query["accessConfig"]!
        guard (instance.nic0.accessConfigs + instance.nic0.ipv6AccessConfigs).contains(where: { $0.name == name }) else {
            throw .badRequest("Invalid value for field 'accessConfig': '\(name)'. The network interface has no "
                              + "access config of that name.")
        }
        return startOperation("deleteAccessConfig", on: instance, call: call,
                              change: .deleteAccessConfig(instance: instance.name, name: name))
    }

    /// Interface fields the double does not change: a request may repeat them as they are.
    private static let fixedInterfaceFields = [
        "accessConfigs", "aliasIpv6Ranges", "enableVpcScopedDns", "igmpQuery", "internalIpv6PrefixLength",
        "ipv6Address", "network", "networkAttachment", "networkIP", "nicType", "parentNicName", "queueCount",
        "serviceClassId", "subnetwork", "vlan",
    ]

    private func updateNetworkInterface(_ call: ComputeCall) throws(GoogleErrorResponse) -> JSONValue {
        let instance = try instance(call)
        try checkInterface(call, instance)
        if let earlier = repeatedRequest(call) { return earlier }
        let body = call.body
        let nic = instance.nic0
        guard let fingerprint = body["fingerprint"]?.stringValue, !fingerprint.isEmpty else {
            throw .badRequest("Required field 'resource.fingerprint' not specified: updating a network interface "
                              + "needs its current fingerprint.", reason: "required")
        }
        guard fingerprint == nic.fingerprint else {
            throw GoogleErrorResponse(status: 412, message: "Supplied fingerprint does not match current network "
                                      + "interface fingerprint; read the instance again.", reason: "conditionNotMet")
        }
        if let name = body["name"]?.stringValue, name != nic.name {
            throw .badRequest("Invalid value for field 'resource.name': '\(name)'. It must name the interface updated.")
        }
        let current = render(nic)
        for field in Self.fixedInterfaceFields {
            guard let given = body[field], given != .null else { continue }
            guard Self.withoutKinds(given) == Self.withoutKinds(current[field] ?? .array([])) else {
                throw .badRequest("Invalid value for field 'resource.\(field)': changing it through "
                                  + "updateNetworkInterface is not supported by the double.")
            }
        }
        let stackType = body["stackType"]?.stringValue
        if stackType == "IPV6_ONLY" {
            throw .badRequest("Invalid value for field 'resource.stackType': 'IPV6_ONLY' is not supported by the double.")
        }
        let newStack = stackType ?? nic.stackType
        if let accessType = body["ipv6AccessType"]?.stringValue, accessType != "EXTERNAL" {
            throw .badRequest("Invalid value for field 'resource.ipv6AccessType': '\(accessType)'. The double "
                              + "simulates external IPv6 only.")
        }
        var ipv6: [(config: GCEAccessConfig, addressName: String?)]?
        if let given = body["ipv6AccessConfigs"]?.arrayValue {
            guard given.count <= 1 else { throw Self.atMostOne }
            ipv6 = []
            for (index, item) in given.enumerated() {
                let field = "resource.ipv6AccessConfigs[\(index)]"
                let type = item["type"]?.stringValue ?? "DIRECT_IPV6"
                guard type == "DIRECT_IPV6" else {
                    throw .badRequest("Invalid value for field '\(field).type': '\(type)'. IPv6 access configs are DIRECT_IPV6.")
                }
                guard item["natIP"]?.stringValue == nil else {
                    throw .badRequest("Invalid value for field '\(field).natIP': natIP applies to ONE_TO_ONE_NAT only.")
                }
                var config = GCEAccessConfig(type: type, name: item["name"]?.stringValue ?? "External IPv6",
                                             externalIpv6PrefixLength: 96, networkTier: "PREMIUM",
                                             setPublicPtr: item["setPublicPtr"]?.boolValue,
                                             publicPtrDomainName: item["publicPtrDomainName"]?.stringValue,
                                             isEphemeral: true)
                var addressName: String?
                if let ip = item["externalIpv6"]?.stringValue {
                    if let existing = nic.ipv6AccessConfigs.first(where: { $0.externalIpv6 == ip && $0.isEphemeral }) {
                        config.externalIpv6 = existing.externalIpv6
                    } else {
                        let address = try reservedAddress(ip: ip, ipv6: true, field: "\(field).externalIpv6")
                        try checkPrefix(item["externalIpv6PrefixLength"]?.intValue, address,
                                        field: "\(field).externalIpv6PrefixLength")
                        config.externalIpv6 = ip
                        config.externalIpv6PrefixLength = address.prefixLength ?? 96
                        config.networkTier = try tier(item["networkTier"]?.stringValue, address, field: "\(field).networkTier")
                        config.isEphemeral = false
                        addressName = address.name
                    }
                }
                ipv6?.append((config, addressName))
            }
        }
        let resultingIPv6Count = ipv6?.count ?? nic.ipv6AccessConfigs.count
        if newStack == "IPV4_ONLY" && resultingIPv6Count > 0 {
            throw .badRequest("Invalid value for field 'resource.ipv6AccessConfigs': an IPV4_ONLY interface has no "
                              + "IPv6 access configs.")
        }
        let aliases = body["aliasIpRanges"]?.arrayValue
        return startOperation("updateNetworkInterface", on: instance, call: call,
                              change: .updateNetworkInterface(instance: instance.name, ipv6: ipv6, stackType: stackType,
                                                              aliasIpRanges: aliases))
    }

    static func withoutKinds(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.filter { $0.key != "kind" }.mapValues(withoutKinds))
        case .array(let items):
            return .array(items.map(withoutKinds))
        default:
            return value
        }
    }

    // MARK: Operations

    private func startOperation(_ type: String, on instance: GCEInstance, call: ComputeCall,
                                change: PendingChange) -> JSONValue {
        let now = clock.now
        let due = max(now.addingTimeInterval(configuration.operationDelay.seconds), lastDue[instance.name] ?? now)
        lastDue[instance.name] = due
        let id = nextID()
        let name = "operation-\(Int64(now.timeIntervalSince1970 * 1000))-\(String(serial, radix: 16))"
        let operation = GCEOperation(
            name: name, id: id, zone: instance.zone, operationType: type, targetLink: instance.selfLink,
            targetId: instance.id, status: "RUNNING", insertTime: now, startTime: now, endTime: nil, errors: [],
            httpErrorStatusCode: nil, httpErrorMessage: nil, requestID: call.query["requestId"], dueTime: due,
            user: call.token.email)
        operations[name] = OperationRecord(operation: operation, change: change, sequence: operations.count)
        if let requestID = call.query["requestId"] { operationsByRequestID[requestID] = name }
        var answered = operation
        answered.status = "PENDING"
        answered.startTime = nil
        return render(answered)
    }

    private func waitOperation(_ call: ComputeCall) async throws(GoogleErrorResponse) -> JSONValue {
        let record = try operationRecord(call)
        let name = record.operation.name
        if record.operation.status != "DONE" {
            let mode = configuration.waitMode ?? (clock is ManualClock ? .immediate : .sleepOnClock)
            if mode == .sleepOnClock {
                let remaining = record.operation.dueTime.timeIntervalSince(clock.now)
                let wait = min(remaining, configuration.waitLimit.seconds)
                if wait > 0 { try? await clock.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up)))) }
                completeDueOperations()
            }
        }
        return render(operations[name]!.operation)
    }
}

/// `text` without leading and trailing white space.
func trimmed(_ text: String) -> String {
    String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
}
