import Foundation
import Testing
@testable import KubeIPTestSupport

/// The double's routes against the discovery document: same verbs, templates, parameters.
@Suite struct ComputeMethodTests {
    @Test(arguments: ComputeMethod.all.map(\.id))
    func routeExistsInTheDocumentWithTheSameVerbAndPath(_ id: String) throws {
        let method = try #require(ComputeMethod.all.first { $0.id == id })
        let described = try #require(Discovery.method(method.id), "\(method.id) is not in compute.v1.json")
        #expect(described["id"]?.stringValue == method.id)
        #expect(described["httpMethod"]?.stringValue == method.httpMethod)
        #expect(described["path"]?.stringValue == method.path)
        #expect(described["flatPath"]?.stringValue == method.path)
        #expect(described["request"]?["$ref"]?.stringValue == method.requestSchema)
        #expect(described["response"]?["$ref"]?.stringValue == method.responseSchema)
    }

    @Test(arguments: ComputeMethod.all.map(\.id))
    func everyAcceptedQueryParameterIsDefinedForTheMethod(_ id: String) throws {
        let method = try #require(ComputeMethod.all.first { $0.id == id })
        let described = try #require(Discovery.method(method.id))
        let parameters = try #require(described["parameters"]?.objectValue)
        for name in method.queryParameters {
            #expect(parameters[name]?["location"]?.stringValue == "query", "\(method.id) ?\(name)")
        }
        let required = parameters.filter { $0.value["location"]?.stringValue == "query" && $0.value["required"]?.boolValue == true }
        #expect(Set(required.keys) == Set(method.requiredQueryParameters))
        // Every query parameter the document defines is accepted (the double leaves none out).
        let documented = parameters.filter { $0.value["location"]?.stringValue == "query" }.keys
        #expect(Set(documented) == Set(method.queryParameters))
        let standard = try #require(Discovery.document["parameters"]?.objectValue)
        for name in ComputeMethod.standardQueryParameters {
            #expect(standard[name]?["location"]?.stringValue == "query", "standard ?\(name)")
        }
    }

    @Test(arguments: ComputeMethod.all.map(\.id))
    func pathParametersAndPatternsMatchTheDocument(_ id: String) throws {
        let method = try #require(ComputeMethod.all.first { $0.id == id })
        let described = try #require(Discovery.method(method.id))
        let parameters = try #require(described["parameters"]?.objectValue)
        let documented = parameters.filter { $0.value["location"]?.stringValue == "path" }
        #expect(Set(documented.keys) == Set(method.pathParameters))
        for (name, parameter) in documented {
            #expect(parameter["pattern"]?.stringValue == ComputeMethod.pathParameterPatterns[name], "\(method.id) {\(name)}")
        }
        let order = described["parameterOrder"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Array(order.prefix(method.pathParameters.count)) == method.pathParameters)
    }

    @Test func theBaseURLIsTheDocuments() throws {
        #expect(Discovery.document["baseUrl"]?.stringValue == ComputeEngineDouble.Configuration().computeBaseURL)
    }

    @Test func theScopesTheDoubleKnowsAreTheDocuments() throws {
        let scopes = try #require(Discovery.document["auth"]?["oauth2"]?["scopes"]?.objectValue)
        #expect(scopes[ComputeEngineDouble.computeScope] != nil)
        #expect(scopes[ComputeEngineDouble.computeReadOnlyScope] != nil)
        #expect(scopes[ComputeEngineDouble.cloudPlatformScope] != nil)
    }

    @Test func bindingMatchesWholeTemplatesOnly() {
        let list = ComputeMethod.all[0]
        #expect(list.bind(["projects", "p", "regions", "r", "addresses"]) == ["project": "p", "region": "r"])
        #expect(list.bind(["projects", "p", "regions", "r", "addresses", ""]) == nil)
        #expect(list.bind(["projects", "", "regions", "r", "addresses"]) == nil)
        #expect(ComputeMethod.pathValue("europe-west1", matches: "region"))
        #expect(!ComputeMethod.pathValue("Europe_West1", matches: "region"))
        #expect(ComputeMethod.pathValue("1234567", matches: "instance"))
        #expect(ComputeMethod.pathValue("my-project", matches: "project"))
    }
}

/// The request-body schemas the double validates against, held against the document.
@Suite struct RequestBodySchemaTests {
    @Test(arguments: RequestBodySchema.schemas.keys.sorted())
    func everyFieldAndTypeIsTheDocuments(_ name: String) throws {
        let described = try #require(Discovery.schema(name)?["properties"]?.objectValue)
        let fields = try #require(RequestBodySchema.schemas[name])
        #expect(Set(fields.keys) == Set(described.keys), "\(name) fields")
        for (field, type) in fields {
            let property = try #require(described[field])
            switch type {
            case .object(let schema):
                #expect(property["$ref"]?.stringValue == schema, "\(name).\(field)")
            case .array(.object(let schema)):
                #expect(property["type"]?.stringValue == "array", "\(name).\(field)")
                #expect(property["items"]?["$ref"]?.stringValue == schema, "\(name).\(field)")
            case .string(let allowed):
                #expect(property["type"]?.stringValue == "string", "\(name).\(field)")
                let documented = property["enum"]?.arrayValue?.compactMap(\.stringValue)
                #expect(documented == allowed, "\(name).\(field) enum")
            default:
                #expect(property["type"]?.stringValue == type.documentType, "\(name).\(field)")
            }
        }
    }

    @Test func unknownFieldsAreRejectedRecursively() {
        #expect(throws: GoogleErrorResponse.self) {
            try RequestBodySchema.validate(["natIP": "1.2.3.4", "bogus": 1], as: "AccessConfig")
        }
        #expect(throws: GoogleErrorResponse.self) {
            try RequestBodySchema.validate(["fingerprint": "x", "ipv6AccessConfigs": [["type": "DIRECT_IPV6", "nope": true]]],
                                           as: "NetworkInterface")
        }
        #expect(throws: GoogleErrorResponse.self) {
            try RequestBodySchema.validate(["aliasIpRanges": [["ipCidrRange": "10.0.0.0/24", "x": "y"]]], as: "NetworkInterface")
        }
        #expect(throws: GoogleErrorResponse.self) {
            try RequestBodySchema.validate(["type": "ONE_TO_MANY"], as: "AccessConfig")
        }
        #expect(throws: GoogleErrorResponse.self) {
            try RequestBodySchema.validate(["externalIpv6PrefixLength": "ninety-six"], as: "AccessConfig")
        }
        #expect(throws: GoogleErrorResponse.self) {
            try RequestBodySchema.validate(["accessConfigs": ["type": "ONE_TO_ONE_NAT"]], as: "NetworkInterface")
        }
        #expect(throws: Never.self) {
            try RequestBodySchema.validate(["type": "DIRECT_IPV6", "externalIpv6": "2600::", "externalIpv6PrefixLength": 96,
                                            "name": "External IPv6", "networkTier": "PREMIUM", "setPublicPtr": false],
                                           as: "AccessConfig")
        }
    }
}
