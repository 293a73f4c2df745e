import Foundation
import KubeIPHTTP

/// An in-memory AWS speaking the real wire formats: IMDSv2, STS AssumeRoleWithWebIdentity,
/// the EC2 Query API (DescribeAddresses, AssociateAddress, DisassociateAddress) with EC2's
/// conditional association, and the container credentials endpoint.
final class FakeAWS: HTTPClient, @unchecked Sendable {
    struct Address {
        var allocationID: String
        var publicIP: String
        var tags: [String: String] = [:]
        var domain = "vpc"
        var interfaceID: String?
        var associationID: String?
        var privateIP: String?
    }

    struct Interface {
        var mac: String
        var device: Int
        var id: String
        /// nil: IMDS has no `network-card` entry (an instance with one card).
        var card: Int? = nil
    }

    static let imdsHost = "http://169.254.169.254"
    static let ec2URL = "https://ec2.eu-west-1.amazonaws.com/"

    private let lock = NSLock()
    private var log: [HTTPRequest] = []

    // IMDS
    var instanceID = "i-0123456789abcdef0"
    var zone = "eu-west-1b"
    var interfaces = [Interface(mac: "0e:00:00:00:00:02", device: 1, id: "eni-secondary"),
                      Interface(mac: "0e:00:00:00:00:01", device: 0, id: "eni-primary")]
    var roleName: String? = "kubeip-node"
    var roleCredentials = (key: "ASIAROLEKEY000000001", secret: "roleSecret/abcdefghijklmnopqrstuvwxyz0123",
                           token: "roleSessionToken+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", expiration: "2026-11-27T22:00:00Z")
    /// false: IMDS requests time out (no answer, as with a hop limit of 1 in a container).
    var imdsReachable = true
    /// IMDS connections are refused (as off EC2, or with the endpoint turned off at the host).
    var imdsRefusesConnections = false
    /// When set, IMDS answers every GET under meta-data/iam/ with this status.
    var imdsIAMStatus: Int?
    private(set) var issuedIMDSTokens: [String] = []
    private var validIMDSTokens: Set<String> = []

    // STS
    var stsCredentials = (key: "ASIASTSKEY0000000001", secret: "stsSecret/ZYXWVUTSRQPONMLKJIHGFEDCBA98765",
                          token: "stsSessionToken//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=", expiration: "2026-11-27T17:00:00Z")

    // EC2
    var addresses: [Address] = []
    /// Interface → instance, as real EC2 fills InstanceId in.
    var instanceOfInterface: [String: String] = ["eni-primary": "i-0123456789abcdef0"]
    /// Errors answered to the next EC2 calls, in order (nil = answer normally).
    var scriptedEC2: [HTTPResponse?] = []
    /// When set, the association made by the next AssociateAddress goes to this interface instead
    /// (another instance won the race between our describe and our associate).
    var expectedKeyID: String?
    private var associations = 0

    var requests: [HTTPRequest] { lock.withLock { log } }
    var ec2Requests: [HTTPRequest] { requests.filter { $0.url.hasPrefix("https://ec2.") } }
    var ec2Actions: [String] { ec2Requests.map { $0.form["Action"] ?? "?" } }

    func withLock<T>(_ body: (FakeAWS) -> T) -> T { lock.withLock { body(self) } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try lock.withLock { try handle(request) }
    }

    private func handle(_ request: HTTPRequest) throws -> HTTPResponse {
        log.append(request)
        if request.url.hasPrefix(Self.imdsHost) {
            guard imdsReachable else { throw HTTPTransportError(url: request.url, reason: "Connection timed out", isTimeout: true) }
            guard !imdsRefusesConnections else {
                throw HTTPTransportError(url: request.url, reason: "Connection refused", isTimeout: false)
            }
            if let status = imdsIAMStatus, request.url.hasPrefix(Self.imdsHost + "/latest/meta-data/iam/") {
                return HTTPResponse(status: status)
            }
            return imds(request)
        }
        if request.url.hasPrefix("https://sts.") { return sts(request) }
        if request.url.hasPrefix("https://ec2.") { return ec2(request) }
        if request.url.hasPrefix("http://169.254.170.2") { return container(request) }
        throw HTTPTransportError(url: request.url, reason: "Could not resolve host", isTimeout: false)
    }

    // MARK: IMDS

    private func imds(_ request: HTTPRequest) -> HTTPResponse {
        let path = String(request.url.dropFirst(Self.imdsHost.count))
        if path == "/latest/api/token" {
            guard request.method == "PUT", request.header("X-aws-ec2-metadata-token-ttl-seconds") != nil else {
                return HTTPResponse(status: 400)
            }
            let token = "imdsToken-\(issuedIMDSTokens.count + 1)-AQAEAxxxxxxxxxxxxxxxxxxxxxx"
            issuedIMDSTokens.append(token)
            validIMDSTokens.insert(token)
            return HTTPResponse(status: 200, headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600")],
                                body: Array(token.utf8))
        }
        guard request.method == "GET" else { return HTTPResponse(status: 405) }
        guard let token = request.header("X-aws-ec2-metadata-token"), validIMDSTokens.contains(token) else {
            return HTTPResponse(status: 401)
        }
        let text: String?
        switch path {
        case "/latest/meta-data/instance-id": text = instanceID
        case "/latest/meta-data/placement/availability-zone": text = zone
        case "/latest/meta-data/placement/region": text = String(zone.dropLast())
        case "/latest/meta-data/network/interfaces/macs/": text = interfaces.map { $0.mac + "/" }.joined(separator: "\n")
        case "/latest/meta-data/iam/security-credentials/": text = roleName.map { $0 + "\n" }
        default:
            if let role = roleName, path == "/latest/meta-data/iam/security-credentials/\(role)" {
                text = """
                {"Code":"Success","LastUpdated":"2026-11-27T15:55:00Z","Type":"AWS-HMAC",\
                "AccessKeyId":"\(roleCredentials.key)","SecretAccessKey":"\(roleCredentials.secret)",\
                "Token":"\(roleCredentials.token)","Expiration":"\(roleCredentials.expiration)"}
                """
            } else if let interface = interfaces.first(where: { path.hasPrefix("/latest/meta-data/network/interfaces/macs/\($0.mac)/") }) {
                switch path.split(separator: "/").last {
                case "device-number": text = String(interface.device)
                case "interface-id": text = interface.id
                case "network-card": text = interface.card.map(String.init)
                default: text = nil
                }
            } else {
                text = nil
            }
        }
        guard let text else { return HTTPResponse(status: 404) }
        return HTTPResponse(status: 200, body: Array(text.utf8))
    }

    /// Makes every IMDS token issued so far invalid (as after a token expiry on the service side).
    func revokeIMDSTokens() { lock.withLock { validIMDSTokens.removeAll() } }

    // MARK: STS

    private func sts(_ request: HTTPRequest) -> HTTPResponse {
        let form = request.form
        guard form["Action"] == "AssumeRoleWithWebIdentity", form["Version"] == "2011-06-15",
              let token = form["WebIdentityToken"], !token.isEmpty, form["RoleArn"] != nil else {
            return xmlResponse(400, """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>\
            <Code>InvalidParameterValue</Code><Message>bad request</Message></Error><RequestId>sts-err</RequestId></ErrorResponse>
            """)
        }
        return xmlResponse(200, """
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult>
            <SubjectFromWebIdentityToken>system:serviceaccount:kube-system:kubeip</SubjectFromWebIdentityToken>
            <AssumedRoleUser>
              <Arn>arn:aws:sts::123456789012:assumed-role/kubeip/\(form["RoleSessionName"] ?? "")</Arn>
              <AssumedRoleId>AROAEXAMPLE:\(form["RoleSessionName"] ?? "")</AssumedRoleId>
            </AssumedRoleUser>
            <Credentials>
              <SessionToken>\(stsCredentials.token)</SessionToken>
              <SecretAccessKey>\(stsCredentials.secret)</SecretAccessKey>
              <Expiration>\(stsCredentials.expiration)</Expiration>
              <AccessKeyId>\(stsCredentials.key)</AccessKeyId>
            </Credentials>
            <Audience>sts.amazonaws.com</Audience>
          </AssumeRoleWithWebIdentityResult>
          <ResponseMetadata><RequestId>sts-req-1</RequestId></ResponseMetadata>
        </AssumeRoleWithWebIdentityResponse>
        """, requestID: "sts-req-1")
    }

    // MARK: Container

    var containerAuthorization: String?
    private func container(_ request: HTTPRequest) -> HTTPResponse {
        if let expected = containerAuthorization, request.header("Authorization") != expected {
            return HTTPResponse(status: 401, body: Array(#"{"message":"unauthorized"}"#.utf8))
        }
        return HTTPResponse(status: 200, body: Array("""
        {"AccessKeyId":"ASIACONTAINER0000001","SecretAccessKey":"containerSecret/0123456789abcdefghijkl",\
        "Token":"containerToken==CCCCCCCCCCCCCCCCCCCC","Expiration":"2026-11-27T18:00:00Z","RoleArn":"arn:aws:iam::1:role/x"}
        """.utf8))
    }

    // MARK: EC2

    private func ec2(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "POST", let authorization = request.header("Authorization"),
              authorization.hasPrefix("AWS4-HMAC-SHA256 Credential="), request.header("X-Amz-Date") != nil else {
            return ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
        }
        if let expectedKeyID, !authorization.contains("Credential=\(expectedKeyID)/") {
            return ec2Error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
        }
        if !scriptedEC2.isEmpty, let scripted = scriptedEC2.removeFirst() { return scripted }
        let parameters = request.formParameters
        let form = request.form
        guard form["Version"] == "2016-11-15" else { return ec2Error(400, "InvalidParameterValue", "bad version") }
        switch form["Action"] {
        case "DescribeAddresses": return describe(parameters)
        case "AssociateAddress": return associate(form)
        case "DisassociateAddress": return disassociate(form)
        default: return ec2Error(400, "InvalidAction", "The action \(form["Action"] ?? "") is not valid for this web service.")
        }
    }

    private func describe(_ parameters: [(String, String)]) -> HTTPResponse {
        var filters: [Int: (name: String, values: [String])] = [:]
        var ids: [String] = []
        for (key, value) in parameters {
            let parts = key.split(separator: ".")
            if parts.first == "AllocationId" { ids.append(value) }
            guard parts.first == "Filter", parts.count >= 3, let n = Int(parts[1]) else { continue }
            if parts[2] == "Name" { filters[n, default: ("", [])].name = value }
            if parts[2] == "Value" { filters[n, default: ("", [])].values.append(value) }
        }
        for id in ids where !addresses.contains(where: { $0.allocationID == id }) {
            return ec2Error(400, "InvalidAllocationID.NotFound", "The allocation ID '\(id)' does not exist")
        }
        var selected = addresses.filter { ids.isEmpty || ids.contains($0.allocationID) }
        for (_, filter) in filters.sorted(by: { $0.key < $1.key }) {
            let match: (Address) -> String?
            switch filter.name {
            case "domain": match = { $0.domain }
            case "allocation-id": match = { $0.allocationID }
            case "public-ip": match = { $0.publicIP }
            case "network-interface-id": match = { $0.interfaceID }
            case "association-id": match = { $0.associationID }
            case let name where name.hasPrefix("tag:"): match = { $0.tags[String(name.dropFirst(4))] }
            default:
                return ec2Error(400, "InvalidParameterValue", "The filter '\(filter.name)' is invalid")
            }
            selected = selected.filter { address in match(address).map(filter.values.contains) ?? false }
        }
        let items = selected.map { a -> String in
            var xml = "<item><publicIp>\(a.publicIP)</publicIp><allocationId>\(a.allocationID)</allocationId><domain>\(a.domain)</domain>"
            if let eni = a.interfaceID {
                xml += "<instanceId>\(instanceOfInterface[eni] ?? "")</instanceId>"
                xml += "<associationId>\(a.associationID ?? "")</associationId><networkInterfaceId>\(eni)</networkInterfaceId>"
                xml += "<networkInterfaceOwnerId>123456789012</networkInterfaceOwnerId><privateIpAddress>\(a.privateIP ?? "10.0.0.10")</privateIpAddress>"
            }
            if !a.tags.isEmpty {
                xml += "<tagSet>" + a.tags.sorted { $0.key < $1.key }.map {
                    "<item><key>\(escape($0.key))</key><value>\(escape($0.value))</value></item>"
                }.joined() + "</tagSet>"
            }
            xml += "<publicIpv4Pool>amazon</publicIpv4Pool><networkBorderGroup>eu-west-1</networkBorderGroup></item>"
            return xml
        }.joined(separator: "\n")
        return xmlResponse(200, """
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeAddressesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
            <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
            <addressesSet>\(items)</addressesSet>
        </DescribeAddressesResponse>
        """)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }

    /// When true, AssociateAddress with AllowReassociation=false refuses an address that is
    /// already on the very interface asked for (the strict reading of EC2's rule).
    var strictReassociation = false
    /// Actions whose next call takes effect but whose answer is lost (a 500 instead).
    var loseAnswerOf: Set<String> = []

    /// Set to steal the next claim: the address goes to this interface just before our AssociateAddress.
    var raceWinner: String?

    /// Allocation ids released (by someone else) just before our next AssociateAddress of them.
    var releasedBeforeAssociate: Set<String> = []
    /// Interfaces that no longer exist.
    var deletedInterfaces: Set<String> = []
    /// Interfaces in a VPC without an internet gateway.
    var interfacesWithoutInternetGateway: Set<String> = []

    private func associate(_ form: [String: String]) -> HTTPResponse {
        if let id = form["AllocationId"], releasedBeforeAssociate.remove(id) != nil {
            addresses.removeAll { $0.allocationID == id }
        }
        if let eni = form["NetworkInterfaceId"], deletedInterfaces.contains(eni) {
            return ec2Error(400, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '\(eni)' does not exist")
        }
        guard let id = form["AllocationId"], let eni = form["NetworkInterfaceId"],
              let index = addresses.firstIndex(where: { $0.allocationID == id }) else {
            return ec2Error(400, "InvalidAllocationID.NotFound", "The allocation ID '\(form["AllocationId"] ?? "")' does not exist")
        }
        if let winner = raceWinner {
            raceWinner = nil
            associations += 1
            addresses[index].interfaceID = winner
            addresses[index].associationID = "eipassoc-\(String(format: "%017x", associations))"
        }
        if let holder = addresses[index].interfaceID, holder != eni || strictReassociation,
           form["AllowReassociation"] != "true" {
            return ec2Error(400, "Resource.AlreadyAssociated", "resource \(id) is already associated with associate-id \(addresses[index].associationID ?? "")")
        }
        if interfacesWithoutInternetGateway.contains(eni) {
            return ec2Error(400, "Gateway.NotAttached", "Network vpc-0a1b2c3d4e5f60718 is not attached to any internet gateway")
        }
        associations += 1
        let association = "eipassoc-\(String(format: "%017x", associations))"
        addresses[index].interfaceID = eni
        addresses[index].associationID = association
        if loseAnswerOf.remove("AssociateAddress") != nil {
            return ec2Error(500, "InternalError", "An internal error has occurred")
        }
        return xmlResponse(200, """
        <AssociateAddressResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
           <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
           <return>true</return>
           <associationId>\(association)</associationId>
        </AssociateAddressResponse>
        """)
    }

    private func disassociate(_ form: [String: String]) -> HTTPResponse {
        guard let association = form["AssociationId"],
              let index = addresses.firstIndex(where: { $0.associationID == association }) else {
            return ec2Error(400, "InvalidAssociationID.NotFound", "The association ID '\(form["AssociationId"] ?? "")' does not exist")
        }
        addresses[index].interfaceID = nil
        addresses[index].associationID = nil
        return xmlResponse(200, """
        <DisassociateAddressResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
           <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
           <return>true</return>
        </DisassociateAddressResponse>
        """)
    }
}
