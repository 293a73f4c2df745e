import Foundation
import KubeIPCore
import KubeIPHTTP
import Testing
@testable import KubeIPTestSupport

/// subnetworks.get and addresses.testIamPermissions.
@Suite struct ComputeEngineDoubleSubnetworksTests {
    @Test func theDefaultSubnetIsTheOneNic0UsesAndPrivateGoogleAccessIsOffByDefault() async throws {
        let world = await GCEWorld()
        let result = try await world.compute("GET", "regions/europe-west1/subnetworks/default")
        #expect(result.status == 200)
        #expect(result.json["kind"]?.stringValue == "compute#subnetwork")
        #expect(result.json["name"]?.stringValue == "default")
        #expect(result.json["privateIpGoogleAccess"] == .bool(false))
        #expect(result.json["ipCidrRange"]?.stringValue == "10.132.0.0/20")
        #expect(result.json["id"]?.stringValue?.isEmpty == false)
        #expect(result.json["creationTimestamp"]?.stringValue?.isEmpty == false)
        let nic0 = try #require(await world.double.instance("vm-1")?.nic0)
        #expect(result.json["selfLink"]?.stringValue == nic0.subnetwork)
        #expect(result.json["network"]?.stringValue == nic0.network)
        #expect(result.json["region"]?.stringValue
            == "https://www.googleapis.com/compute/v1/projects/kubeip-sim/regions/europe-west1")
        #expect(Discovery.undefinedFields(in: result.json, schema: "Subnetwork").isEmpty)
        #expect(await world.double.requests(for: "compute.subnetworks.get").count == 1)

        await world.double.setPrivateGoogleAccess(true)
        let on = try await world.compute("GET", "regions/europe-west1/subnetworks/default?views=DEFAULT")
        #expect(on.json["privateIpGoogleAccess"] == .bool(true))
        let byID = try await world.compute("GET", "regions/europe-west1/subnetworks/\(result.json["id"]!.stringValue!)")
        #expect(byID.json["name"]?.stringValue == "default")
    }

    @Test func subnetErrorsAreTheAPIs() async throws {
        let world = await GCEWorld()
        #expect(try await world.compute("GET", "regions/europe-west1/subnetworks/elsewhere").status == 404)
        #expect(try await world.compute("GET", "regions/europe-west1/subnetworks/default?views=ALL").status == 400)
        #expect(try await world.compute("GET", "regions/europe-west1/subnetworks/default?filter=x").status == 400)
        #expect(try await world.compute("GET", "regions/us-east1/subnetworks/default").status == 400)
        #expect(try await world.compute("GET", "regions/europe-west1/subnetworks/Bad_Name").status == 400)
        #expect(try await world.compute("POST", "regions/europe-west1/subnetworks/default").status == 404)
        await world.double.deny(permission: "compute.subnetworks.get")
        let denied = try await world.compute("GET", "regions/europe-west1/subnetworks/default")
        #expect(denied.status == 403)
        #expect(denied.json.errorMessage.contains("compute.subnetworks.get"))
    }

    @Test func testIamPermissionsGrantsWhatIsNotDeniedAndNeedsNoPermission() async throws {
        let world = await GCEWorld()
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1")
        let path = "regions/europe-west1/addresses/edge-a/testIamPermissions"
        let asked: JSONValue = ["permissions": ["compute.addresses.use", "compute.addresses.get"]]
        let all = try await world.compute("POST", path, body: asked)
        #expect(all.status == 200)
        #expect(all.json == ["permissions": ["compute.addresses.use", "compute.addresses.get"]])
        #expect(Discovery.undefinedFields(in: all.json, schema: "TestPermissionsResponse").isEmpty)

        await world.double.deny(permission: "compute.addresses.use")
        #expect(try await world.compute("POST", path, body: asked).json == ["permissions": ["compute.addresses.get"]])
        await world.double.deny(permission: "compute.addresses.get")
        let none = try await world.compute("POST", path, body: asked)
        #expect(none.status == 200)
        #expect(none.json == .object([:]))
        // An empty request is answered too; a wildcard, an unknown field, an unknown address are not.
        #expect(try await world.compute("POST", path).json == .object([:]))
        #expect(try await world.compute("POST", path, body: ["permissions": ["compute.*"]]).status == 400)
        #expect(try await world.compute("POST", path, body: ["permission": ["compute.addresses.use"]]).status == 400)
        #expect(try await world.compute("POST", "regions/europe-west1/addresses/gone/testIamPermissions", body: asked)
            .status == 404)
        #expect(try await world.compute("GET", path).status == 404)
        // A read-only token suffices.
        let readOnly = await world.double.issueToken(scopes: [ComputeEngineDouble.computeReadOnlyScope])
        #expect(try await world.compute("POST", path, body: asked, token: readOnly).status == 200)
        #expect(await world.double.requests(for: "compute.addresses.testIamPermissions").count == 8)
    }

    @Test func aDeniedAddressUseRefusesTheAttach() async throws {
        let world = await GCEWorld()
        await world.double.reserveAddress(name: "edge-a", ip: "35.200.0.1")
        #expect(try await world.deleteAccessConfig().0 == 200)
        await world.double.settle()
        await world.double.deny(permission: "compute.addresses.use")
        let (status, json) = try await world.addAccessConfig(natIP: "35.200.0.1")
        #expect(status == 403)
        #expect(json.errorMessage.contains("compute.addresses.use"))
        await world.double.allow(permission: "compute.addresses.use")
        #expect(try await world.addAccessConfig(natIP: "35.200.0.1").0 == 200)
    }
}
