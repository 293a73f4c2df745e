import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPTestSupport

/// The Compute API's frontend checks: authentication, routing, parameters, bodies.
@Suite struct ComputeEngineDoubleAdmissionTests {
    @Test func requestsNeedATokenTheDoubleIssued() async throws {
        let world = await GCEWorld()
        let unauthenticated = try await world.vm.send(HTTPRequest(url: GCEWorld.base + "zones/europe-west1-b/instances/vm-1"))
        #expect(unauthenticated.status == 401)
        let error = try JSONValue(parsing: unauthenticated.body)
        #expect(error["error"]?["code"] == 401)
        #expect(error["error"]?["status"] == "UNAUTHENTICATED")
        #expect(error["error"]?["errors"]?[0]?["reason"]?.stringValue != nil)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1", token: "ya29.forged").status == 401)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").status == 200)
    }

    @Test func tokensExpireOnTheClock() async throws {
        let world = await GCEWorld()
        world.clock.advance(by: .seconds(3601))
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").status == 401)
    }

    @Test func aReadOnlyScopeMayReadButNotWrite() async throws {
        let world = await GCEWorld()
        let readOnly = await world.double.issueToken(scopes: [ComputeEngineDouble.computeReadOnlyScope])
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1", token: readOnly).status == 200)
        let (status, json) = try await world.addAccessConfig(token: readOnly)
        #expect(status == 403)
        #expect(json["error"]?["errors"]?[0]?["reason"] == "insufficientPermissions")
    }

    @Test func unknownPathsAndWrongVerbsAre404() async throws {
        let world = await GCEWorld()
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances").status == 404)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1/addAccessConfig?networkInterface=nic0").status == 404)
        #expect(try await world.compute("DELETE", "regions/europe-west1/addresses/a").status == 404)
        #expect(try await world.compute("POST", "zones/europe-west1-b/instances/vm-1/updateNetworkInterface?networkInterface=nic0",
                                        body: ["fingerprint": "x"]).status == 404)
    }

    @Test(arguments: [
        "regions/europe-west1/addresses?bogus=1",
        "regions/europe-west1/addresses?filter=&returnPartialSuccess=true",
        "regions/europe-west1/addresses/a?maxResults=3",
        "zones/europe-west1-b/instances/vm-1?networkInterface=nic0",
        "zones/europe-west1-b/operations/x?requestId=6c3f4bd2-7e83-4c5c-a4b1-1a2b3c4d5e6f",
        "regions/europe-west1/addresses?fields=items(name)",
        "regions/europe-west1/addresses?key=abc",
        "regions/europe-west1/addresses?alt=proto",
        "regions/europe-west1/addresses?maxResults=1&maxResults=2",
    ])
    func queryParametersTheMethodDoesNotDefineAre400(_ path: String) async throws {
        let world = await GCEWorld()
        let (status, json, _) = try await world.compute("GET", path)
        #expect(status == 400)
        #expect(json["error"]?["status"] == "INVALID_ARGUMENT")
    }

    @Test func standardParametersTheDoubleHonoursAreAccepted() async throws {
        let world = await GCEWorld()
        #expect(try await world.compute("GET", "regions/europe-west1/addresses?alt=json&prettyPrint=false&quotaUser=x").status == 200)
    }

    @Test func mutationsCheckTheirQueryParameters() async throws {
        let world = await GCEWorld()
        let missing = try await world.compute("POST", "zones/europe-west1-b/instances/vm-1/deleteAccessConfig?networkInterface=nic0")
        #expect(missing.status == 400)
        let extra = try await world.compute(
            "POST", "zones/europe-west1-b/instances/vm-1/deleteAccessConfig?accessConfig=External%20NAT&networkInterface=nic0&force=true")
        #expect(extra.status == 400)
        let badRequestID = try await world.compute(
            "POST", "zones/europe-west1-b/instances/vm-1/deleteAccessConfig?accessConfig=External%20NAT&networkInterface=nic0&requestId=123")
        #expect(badRequestID.status == 400)
        let wrongNIC = try await world.compute(
            "POST", "zones/europe-west1-b/instances/vm-1/deleteAccessConfig?accessConfig=External%20NAT&networkInterface=nic1")
        #expect(wrongNIC.status == 400)
        #expect(await world.double.allOperations().isEmpty)
        #expect(await world.double.accessConfigs(of: "vm-1").count == 1)
    }

    @Test func bodyFieldsTheSchemaDoesNotDefineAre400AndChangeNothing() async throws {
        let world = await GCEWorld()
        let address = await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        let fingerprint = try #require(await world.double.instance("vm-1")?.nic0.fingerprint)
        let bodies: [(String, String, JSONValue)] = [
            ("POST", "addAccessConfig", ["natIP": .string(address.address), "ipAddress": "x"]),
            ("POST", "addAccessConfig", ["natIP": .string(address.address), "type": "ONE_TO_ONE_NAT", "labels": ["a": "b"]]),
            ("PATCH", "updateNetworkInterface", ["fingerprint": .string(fingerprint),
                                                 "ipv6AccessConfigs": [["type": "DIRECT_IPV6", "ip": "2600::"]]]),
            ("PATCH", "updateNetworkInterface", ["fingerprint": .string(fingerprint), "stackType": "DUAL"]),
            ("PATCH", "updateNetworkInterface", ["fingerprint": .string(fingerprint), "aliasIpRanges": [["cidr": "10.0.0.0/24"]]]),
        ]
        for (verb, method, body) in bodies {
            let result = try await world.compute(verb, "zones/europe-west1-b/instances/vm-1/\(method)?networkInterface=nic0", body: body)
            #expect(result.status == 400, "\(body.serialized)")
            #expect(result.json["error"]?["code"] == 400)
        }
        #expect(await world.double.allOperations().isEmpty)
    }

    @Test func bodiesMustBeJSONObjectsSentAsJSON() async throws {
        let world = await GCEWorld()
        let path = GCEWorld.base + "zones/europe-west1-b/instances/vm-1/addAccessConfig?networkInterface=nic0"
        let auth = HTTPHeader("Authorization", "Bearer \(world.token)")
        let notJSON = try await world.vm.send(HTTPRequest(method: "POST", url: path,
                                                          headers: [auth, HTTPHeader("Content-Type", "application/json")],
                                                          body: Array("{natIP: 1}".utf8)))
        #expect(notJSON.status == 400)
        let wrongType = try await world.vm.send(HTTPRequest(method: "POST", url: path,
                                                            headers: [auth, HTTPHeader("Content-Type", "text/plain")],
                                                            body: Array(#"{"type":"ONE_TO_ONE_NAT"}"#.utf8)))
        #expect(wrongType.status == 400)
        let bodyWhereNoneIsTaken = try await world.compute(
            "POST", "zones/europe-west1-b/instances/vm-1/deleteAccessConfig?accessConfig=External%20NAT&networkInterface=nic0",
            body: ["name": "External NAT"])
        #expect(bodyWhereNoneIsTaken.status == 400)
    }

    @Test func pathValuesAreCheckedAgainstTheDocumentsPatternsAndTheWorld() async throws {
        let world = await GCEWorld()
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/VM_1").status == 400)
        #expect(try await world.compute("GET", "zones/mars-north1-a/instances/vm-1").status == 400)
        #expect(try await world.compute("GET", "zones/europe-west1-c/instances/vm-1").status == 404)
        #expect(try await world.compute("GET", "regions/us-east1/addresses").status == 400)
        #expect(try await world.compute("GET", "regions/europe-west1/addresses/nope").status == 404)
        let otherProject = try await world.vm.send(HTTPRequest(
            url: "https://compute.googleapis.com/compute/v1/projects/someone-else/regions/europe-west1/addresses",
            headers: [HTTPHeader("Authorization", "Bearer \(world.token)")]))
        #expect(otherProject.status == 404)
        let byNumber = try await world.vm.send(HTTPRequest(
            url: "https://compute.googleapis.com/compute/v1/projects/271828182845/regions/europe-west1/addresses",
            headers: [HTTPHeader("Authorization", "Bearer \(world.token)")]))
        #expect(byNumber.status == 200)
        let id = try #require(await world.double.instance("vm-1")?.id)
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/\(id)").json["name"] == "vm-1")
    }

    @Test func aDeniedPermissionIs403NamingIt() async throws {
        let world = await GCEWorld()
        await world.double.deny(permission: "compute.instances.addAccessConfig")
        let (status, json) = try await world.addAccessConfig()
        #expect(status == 403)
        #expect(json.errorMessage.contains("compute.instances.addAccessConfig"))
        await world.double.allow(permission: "compute.instances.addAccessConfig")
        #expect(try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").status == 200)
    }

    @Test func everyRequestIsRecorded() async throws {
        let world = await GCEWorld()
        _ = try await world.compute("GET", "regions/europe-west1/addresses?filter=(labels.env%3Dprod)&maxResults=5")
        let (_, _) = try await world.addAccessConfig(natIP: "34.76.9.9")
        let recorded = await world.double.requests
        #expect(recorded.count == 2)
        #expect(recorded[0].methodID == "compute.addresses.list")
        #expect(recorded[0].path == "projects/kubeip-sim/regions/europe-west1/addresses")
        #expect(recorded[0].queryValue("filter") == "(labels.env=prod)")
        #expect(recorded[0].status == 200)
        #expect(recorded[1].method == "POST")
        #expect(recorded[1].body?["natIP"] == "34.76.9.9")
        #expect(recorded[1].status == 400)
        #expect(recorded[1].instance == "vm-1")
        #expect(await world.double.requests(for: "compute.instances.addAccessConfig").count == 1)
    }
}

/// Answers shaped by the schemas: every emitted field is defined by the document.
@Suite struct ComputeEngineDoubleSchemaTests {
    @Test func addressesInstancesAndOperationsEmitOnlyDefinedFields() async throws {
        let world = await GCEWorld(stackType: "IPV4_IPV6")
        await world.double.reserveAddress(name: "v4", ip: "34.76.1.10", labels: ["env": "prod"], description: "pool")
        await world.double.reserveAddress(name: "v6", ip: "2600:1900:4041:100::")
        await world.double.attachAddress("v6", to: "vm-1")

        let list = try await world.compute("GET", "regions/europe-west1/addresses?maxResults=10").json
        #expect(Discovery.undefinedFields(in: list, schema: "AddressList") == [])
        #expect(list["items"]?.arrayValue?.count == 2)
        let address = try await world.compute("GET", "regions/europe-west1/addresses/v6").json
        #expect(Discovery.undefinedFields(in: address, schema: "Address") == [])
        #expect(address["users"]?[0]?.stringValue?.hasSuffix("/zones/europe-west1-b/instances/vm-1") == true)
        #expect(address["prefixLength"] == 96)
        #expect(address["ipv6EndpointType"] == "VM")

        let instance = try await world.compute("GET", "zones/europe-west1-b/instances/vm-1").json
        #expect(Discovery.undefinedFields(in: instance, schema: "Instance") == [])
        let nic = try #require(instance["networkInterfaces"]?[0])
        #expect(Discovery.undefinedFields(in: nic, schema: "NetworkInterface") == [])
        #expect(nic["accessConfigs"]?[0]?["type"] == "ONE_TO_ONE_NAT")
        #expect(nic["ipv6AccessConfigs"]?[0]?["externalIpv6"] == "2600:1900:4041:100::")
        #expect(nic["ipv6AccessConfigs"]?[0]?["externalIpv6PrefixLength"] == 96)
        for config in (nic["accessConfigs"]?.arrayValue ?? []) + (nic["ipv6AccessConfigs"]?.arrayValue ?? []) {
            #expect(Discovery.undefinedFields(in: config, schema: "AccessConfig") == [])
        }

        let (_, delete) = try await world.deleteAccessConfig()
        #expect(delete["status"] == "PENDING")
        #expect(Discovery.undefinedFields(in: delete, schema: "Operation") == [])
        let done = try await world.operation(try #require(delete["name"]?.stringValue))
        #expect(done["status"] == "DONE")
        #expect(Discovery.undefinedFields(in: done, schema: "Operation") == [])
        let (status, pending) = try await world.addAccessConfig(natIP: "34.76.1.10")
        #expect(status == 200)
        #expect(Discovery.undefinedFields(in: pending, schema: "Operation") == [])
    }

    @Test func failedOperationsAndErrorsEmitOnlyDefinedFields() async throws {
        let world = await GCEWorld()
        await world.double.createInstance(name: "vm-2", withEphemeralIPv4: false)
        await world.double.reserveAddress(name: "a", ip: "34.76.1.10")
        await world.double.attachAddress("a", to: "vm-1")
        let (_, pending) = try await world.addAccessConfig("vm-2", natIP: "34.76.1.10")
        let failed = try await world.operation(try #require(pending["name"]?.stringValue))
        #expect(failed["error"] != nil)
        #expect(Discovery.undefinedFields(in: failed, schema: "Operation") == [])
    }

    @Test func emptyListsLeaveItemsOut() async throws {
        let world = await GCEWorld()
        let list = try await world.compute("GET", "regions/europe-west1/addresses").json
        #expect(list["items"] == nil)
        #expect(list["kind"] == "compute#addressList")
        #expect(list["nextPageToken"] == nil)
    }
}
