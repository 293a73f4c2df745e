import Foundation
import KubeIPCore
import KubeIPHTTP
import Logging
import Testing
@testable import KubeIPAWS

@Suite struct AWSAddressPoolTests {
    static let me = InstanceIdentity(cloud: "aws", instanceID: "i-0123456789abcdef0", region: "eu-west-1",
                                     zone: "eu-west-1b", interfaceID: "eni-primary")

    static func fakeWithPool() -> FakeAWS {
        let fake = FakeAWS()
        fake.addresses = [
            .init(allocationID: "eipalloc-0000000000000000a", publicIP: "198.51.100.7", tags: ["kubeip": "reserved", "env": "prod"]),
            .init(allocationID: "eipalloc-0000000000000000b", publicIP: "198.51.100.8", tags: ["kubeip": "reserved", "env": "prod"],
                  interfaceID: "eni-other", associationID: "eipassoc-0000000000000000x", privateIP: "10.0.1.5"),
            .init(allocationID: "eipalloc-0000000000000000c", publicIP: "198.51.100.9", tags: ["kubeip": "reserved", "env": "dev"]),
            .init(allocationID: "eipalloc-0000000000000000d", publicIP: "203.0.113.1", tags: ["team": "other"]),
        ]
        fake.instanceOfInterface["eni-other"] = "i-0fedcba9876543210"
        return fake
    }

    static func cloud(_ fake: FakeAWS, filter: String = "Name=tag:kubeip,Values=reserved", clock: ManualClock = ManualClock(),
                      logger: Logger = LogCapture().logger(),
                      environment: [String: String] = ["AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDPOOLTEST",
                                                       "AWS_SECRET_ACCESS_KEY": "poolsecret/0123456789abcdefghijklmnop"]) throws -> CloudAdapter {
        try AWSCloud.make(filter: filter, region: nil, environment: environment, http: fake, clock: clock,
                          random: FixedRandom(), readFile: { _ in nil }, logger: logger)
    }

    @Test func listsTheFilteredPoolWithHoldersAndFields() async throws {
        let fake = Self.fakeWithPool()
        let pool = try Self.cloud(fake).pool
        let addresses = try await pool.addresses(family: .ipv4, for: Self.me)
        #expect(addresses.map(\.id) == ["eipalloc-0000000000000000a", "eipalloc-0000000000000000b", "eipalloc-0000000000000000c"])
        #expect(addresses[0].holder == nil)
        #expect(addresses[0].fields == ["PublicIp": "198.51.100.7", "AllocationId": "eipalloc-0000000000000000a",
                                        "Domain": "vpc", "PublicIpv4Pool": "amazon", "NetworkBorderGroup": "eu-west-1",
                                        "Tag:kubeip": "reserved", "Tag:env": "prod"])
        #expect(addresses[1].holder == AddressHolder(interfaceID: "eni-other", instanceID: "i-0fedcba9876543210",
                                                     associationID: "eipassoc-0000000000000000x"))
        #expect(addresses[1].fields["NetworkInterfaceOwnerId"] == "123456789012")
        #expect(addresses[1].fields["PrivateIpAddress"] == "10.0.1.5")
        // The user's filter plus domain=vpc.
        let form = try #require(fake.ec2Requests.first).form
        #expect(form["Filter.1.Name"] == "tag:kubeip")
        #expect(form["Filter.1.Value.1"] == "reserved")
        #expect(form["Filter.2.Name"] == "domain")
        #expect(form["Filter.2.Value.1"] == "vpc")
    }

    @Test func anEmptyInstanceIdStillMeansHeld() throws {
        // moto's answer for an address associated by interface id.
        let item = try AWSXML.parse("""
        <item><allocationId>eipalloc-1</allocationId><domain>vpc</domain><networkInterfaceId>eni-primary</networkInterfaceId>\
        <associationId>eipassoc-1</associationId><tagSet/><instanceId/><publicIp>127.0.0.5</publicIp></item>
        """)
        let address = try #require(AWSAddressPool.address(from: item))
        #expect(address.holder == AddressHolder(interfaceID: "eni-primary", instanceID: nil, associationID: "eipassoc-1"))
        #expect(address.isHeld(by: Self.me))
        #expect(address.fields == ["AllocationId": "eipalloc-1", "Domain": "vpc", "NetworkInterfaceId": "eni-primary",
                                   "AssociationId": "eipassoc-1", "PublicIp": "127.0.0.5"])
        // And moto's free address: empty networkInterfaceId is no holder.
        let free = try AWSXML.parse("<item><allocationId>eipalloc-2</allocationId><networkInterfaceId/><instanceId/><publicIp>127.0.0.6</publicIp></item>")
        #expect(AWSAddressPool.address(from: free)?.holder == nil)
    }

    @Test func ipv6IsRefused() async throws {
        let pool = try Self.cloud(FakeAWS()).pool
        do {
            _ = try await pool.addresses(family: .ipv6, for: Self.me)
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error == KubeIPError.invalid("ipv6", "AWS Elastic IPs are IPv4 only; unset ipv6 / ip-families for cloud aws"))
        }
    }

    @Test func readsOneAddressBackWithinTheFilter() async throws {
        let fake = Self.fakeWithPool()
        let pool = try Self.cloud(fake).pool
        #expect(try await pool.address(id: "eipalloc-0000000000000000c", family: .ipv4, for: Self.me)?.ip == "198.51.100.9")
        #expect(fake.ec2Requests.last?.form["AllocationId.1"] == "eipalloc-0000000000000000c")
        // Outside the filter: it left the pool.
        #expect(try await pool.address(id: "eipalloc-0000000000000000d", family: .ipv4, for: Self.me) == nil)
        // Released from the account.
        #expect(try await pool.address(id: "eipalloc-00000000000000zzz", family: .ipv4, for: Self.me) == nil)
    }

    @Test func attachIsAConditionalAssociation() async throws {
        let fake = Self.fakeWithPool()
        let pool = try Self.cloud(fake).pool
        let free = try #require(try await pool.addresses(family: .ipv4, for: Self.me).first { $0.isFree })
        try await pool.attach(free, to: Self.me)
        let form = try #require(fake.ec2Requests.last).form
        #expect(form["Action"] == "AssociateAddress")
        #expect(form["AllocationId"] == free.id)
        #expect(form["NetworkInterfaceId"] == "eni-primary")
        #expect(form["AllowReassociation"] == "false")

        let taken = try #require(try await pool.addresses(family: .ipv4, for: Self.me).first { $0.holder?.interfaceID == "eni-other" })
        do {
            try await pool.attach(taken, to: Self.me)
            Issue.record("expected a conflict")
        } catch let error as KubeIPError {
            #expect(error.code == .conflict)
            #expect(error.resource == taken.id)
        }
        #expect(fake.addresses.first { $0.allocationID == taken.id }?.interfaceID == "eni-other")
    }

    @Test func anAddressReleasedBeforeTheAssociationIsALostCandidate() async throws {
        let fake = Self.fakeWithPool()
        let pool = try Self.cloud(fake).pool
        let free = try #require(try await pool.addresses(family: .ipv4, for: Self.me).first { $0.isFree })
        fake.releasedBeforeAssociate = [free.id]
        do {
            try await pool.attach(free, to: Self.me)
            Issue.record("expected a conflict")
        } catch let error as KubeIPError {
            #expect(error.code == .conflict)
            #expect(error.resource == free.id)
            #expect(error.message == "\(free.ip) (\(free.id)) was released before it could be associated")
        }
    }

    @Test func aMissingInterfaceIsFatalAndNamesTheInterface() async throws {
        let fake = Self.fakeWithPool()
        fake.deletedInterfaces = ["eni-primary"]
        let pool = try Self.cloud(fake).pool
        let free = try #require(try await pool.addresses(family: .ipv4, for: Self.me).first { $0.isFree })
        do {
            try await pool.attach(free, to: Self.me)
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .notFound)
            #expect(error.resource == "eni-primary")
            #expect(error.message.hasPrefix("EC2 does not know this instance's network interface eni-primary: "))
            #expect(error.message.contains("InvalidNetworkInterfaceID.NotFound"))
        }
    }

    @Test func aVPCWithoutAnInternetGatewayIsAClearFatalError() async throws {
        let fake = Self.fakeWithPool()
        fake.interfacesWithoutInternetGateway = ["eni-primary"]
        let clock = ManualClock()
        let engine = AddressEngine(cloud: try Self.cloud(fake, clock: clock), settings: EngineSettings(), clock: clock,
                                   random: FixedRandom(), logger: LogCapture().logger())
        do {
            _ = try await engine.acquire()
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .cloudAPI)
            #expect(!error.isRetryable)
            #expect(error.resource == "eni-primary")
            #expect(error.description.hasPrefix(
                "the VPC of eni-primary has no internet gateway; an Elastic IP cannot be associated (EC2 AssociateAddress failed: Gateway.NotAttached: "))
        }
        // One try: the next candidate would meet the same VPC.
        #expect(fake.ec2Actions == ["DescribeAddresses", "AssociateAddress"])
    }

    @Test func anInvalidParameterOnAssociateIsAPlainAPIErrorNamingTheClaim() async throws {
        let fake = Self.fakeWithPool()
        fake.scriptedEC2 = [nil, ec2Error(400, "InvalidParameterValue", "The filter value is not valid for this address")]
        let pool = try Self.cloud(fake).pool
        let free = try #require(try await pool.addresses(family: .ipv4, for: Self.me).first { $0.isFree })
        do {
            try await pool.attach(free, to: Self.me)
            Issue.record("expected an error")
        } catch let error as KubeIPError {
            #expect(error.code == .cloudAPI)
            #expect(error.setting == nil)
            #expect(error.message == "EC2 AssociateAddress failed: InvalidParameterValue: The filter value is not valid for this address (associating \(free.ip) (\(free.id)) with eni-primary)")
        }
    }

    @Test func theEngineMovesPastAnAddressReleasedMidClaim() async throws {
        let fake = Self.fakeWithPool()
        fake.releasedBeforeAssociate = ["eipalloc-0000000000000000c"] // the engine's first choice here
        let clock = ManualClock()
        let engine = AddressEngine(cloud: try Self.cloud(fake, clock: clock), settings: EngineSettings(), clock: clock,
                                   random: FixedRandom(), logger: LogCapture().logger())
        let held = try #require(try await engine.acquire().first)
        #expect(held.address.id == "eipalloc-0000000000000000a")
        #expect(fake.ec2Actions == ["DescribeAddresses", "AssociateAddress", "AssociateAddress", "DescribeAddresses"])
        #expect(fake.ec2Requests.filter { $0.form["Action"] == "AssociateAddress" }.map { $0.form["AllocationId"] }
                == ["eipalloc-0000000000000000c", "eipalloc-0000000000000000a"])
    }

    @Test func detachUsesTheAssociationAndIsIdempotent() async throws {
        let fake = Self.fakeWithPool()
        let pool = try Self.cloud(fake).pool
        let free = try #require(try await pool.addresses(family: .ipv4, for: Self.me).first { $0.isFree })
        try await pool.attach(free, to: Self.me)
        let held = try #require(try await pool.address(id: free.id, family: .ipv4, for: Self.me))
        let before = fake.ec2Requests.count
        try await pool.detach(held, from: Self.me)
        #expect(fake.ec2Actions.dropFirst(before) == ["DisassociateAddress"])
        #expect(fake.ec2Requests.last?.form["AssociationId"] == held.holder?.associationID)
        // Again: the association is gone → NotFound → success.
        try await pool.detach(held, from: Self.me)
        // Without an association id: read first, then nothing to do.
        try await pool.detach(PoolAddress(id: free.id, ip: free.ip), from: Self.me)
        #expect(fake.ec2Actions.suffix(1) == ["DescribeAddresses"])
    }

    @Test func detachRefusesAnAddressOnAnotherInterface() async throws {
        let fake = Self.fakeWithPool()
        let pool = try Self.cloud(fake).pool
        let theirs = PoolAddress(id: "eipalloc-0000000000000000b", ip: "198.51.100.8")
        await #expect(throws: KubeIPError.self) { try await pool.detach(theirs, from: Self.me) }
        #expect(fake.addresses[1].interfaceID == "eni-other")
        #expect(!fake.ec2Actions.contains("DisassociateAddress"))
    }

    @Test func identityComesFromIMDS() async throws {
        let identity = try await Self.cloud(FakeAWS()).identity.identity()
        #expect(identity == InstanceIdentity(cloud: "aws", instanceID: "i-0123456789abcdef0", region: "eu-west-1",
                                             zone: "eu-west-1b", interfaceID: "eni-primary"))
    }

    // MARK: Through the real engine

    @Test func aFirstAssignmentCostsThreeEC2Calls() async throws {
        let fake = Self.fakeWithPool()
        let clock = ManualClock()
        let engine = AddressEngine(cloud: try Self.cloud(fake, clock: clock), settings: EngineSettings(), clock: clock,
                                   random: FixedRandom(), logger: LogCapture().logger())
        try await engine.discover()
        #expect(fake.ec2Requests.isEmpty)
        let assignments = try await engine.acquire()
        #expect(fake.ec2Actions == ["DescribeAddresses", "AssociateAddress", "DescribeAddresses"])
        let held = try #require(assignments.first)
        #expect(held.address.isHeld(by: Self.me))
        #expect(fake.addresses.first { $0.allocationID == held.address.id }?.interfaceID == "eni-primary")
    }

    @Test func aLostRaceCostsOneMoreCall() async throws {
        let fake = Self.fakeWithPool()
        fake.raceWinner = "eni-third"
        let clock = ManualClock()
        let engine = AddressEngine(cloud: try Self.cloud(fake, clock: clock), settings: EngineSettings(), clock: clock,
                                   random: FixedRandom(), logger: LogCapture().logger())
        try await engine.discover()
        let held = try #require(try await engine.acquire().first)
        #expect(fake.ec2Actions == ["DescribeAddresses", "AssociateAddress", "AssociateAddress", "DescribeAddresses"])
        #expect(held.address.holder?.interfaceID == "eni-primary")
    }

    @Test func aRetriedAssociationThatHadWorkedIsNotALostRace() async throws {
        let fake = Self.fakeWithPool()
        fake.strictReassociation = true
        fake.loseAnswerOf = ["AssociateAddress"]
        let clock = ManualClock()
        let engine = AddressEngine(cloud: try Self.cloud(fake, clock: clock), settings: EngineSettings(), clock: clock,
                                   random: FixedRandom(), logger: LogCapture().logger())
        let held = try #require(try await engine.acquire().first)
        // describe, associate (worked, answer lost), associate (refused: already ours), describe (it is ours),
        // describe (the engine's read-back).
        #expect(fake.ec2Actions == ["DescribeAddresses", "AssociateAddress", "AssociateAddress", "DescribeAddresses",
                                    "DescribeAddresses"])
        #expect(held.address.holder?.interfaceID == "eni-primary")
        #expect(fake.addresses.filter { $0.interfaceID == "eni-primary" }.count == 1)
    }

    @Test func aRestartAdoptsTheHeldAddressInOneCall() async throws {
        let fake = Self.fakeWithPool()
        fake.addresses[2].interfaceID = "eni-primary"
        fake.addresses[2].associationID = "eipassoc-mine"
        let clock = ManualClock()
        let engine = AddressEngine(cloud: try Self.cloud(fake, clock: clock), settings: EngineSettings(), clock: clock,
                                   random: FixedRandom(), logger: LogCapture().logger())
        let held = try #require(try await engine.acquire().first)
        #expect(held.adopted)
        #expect(held.address.id == "eipalloc-0000000000000000c")
        #expect(fake.ec2Actions == ["DescribeAddresses"])
        try await engine.release()
        #expect(fake.ec2Actions == ["DescribeAddresses", "DisassociateAddress"])
        #expect(fake.addresses[2].interfaceID == nil)
    }
}
