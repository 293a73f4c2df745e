import KubeIPCore
import Testing
@testable import KubeIPAWS

@Suite struct AWSXMLTests {
    @Test func parsesAnEC2AnswerIgnoringDeclarationAndNamespaces() throws {
        let root = try AWSXML.parse("""
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- a comment -->
        <ec2:DescribeAddressesResponse xmlns:ec2="http://ec2.amazonaws.com/doc/2016-11-15/">
          <ec2:requestId>abc</ec2:requestId>
          <ec2:addressesSet>
            <ec2:item><ec2:publicIp>198.51.100.7</ec2:publicIp><ec2:tagSet/></ec2:item>
            <item><publicIp>198.51.100.8</publicIp></item>
          </ec2:addressesSet>
        </ec2:DescribeAddressesResponse>
        """)
        #expect(root.name == "DescribeAddressesResponse")
        #expect(root.attributes.isEmpty)
        #expect(root.value("requestId") == "abc")
        let items = root.child("addressesSet")?.children("item") ?? []
        #expect(items.map { $0.value("publicIp") } == ["198.51.100.7", "198.51.100.8"])
        #expect(items[0].child("tagSet")?.children.isEmpty == true)
    }

    @Test func resolvesEntitiesNumericReferencesAndCDATA() throws {
        let root = try AWSXML.parse(
            "<a k='x &amp; y'><m>Tom &amp; &quot;Jerry&quot; &lt;&gt; &apos;s &#65;&#x42;&#x1F600;</m><c><![CDATA[<raw> & stuff]]></c></a>")
        #expect(root.attributes["k"] == "x & y")
        #expect(root.value("m") == "Tom & \"Jerry\" <> 's AB😀")
        #expect(root.value("c") == "<raw> & stuff")
    }

    @Test func findsDescendantsAndPaths() throws {
        let root = try AWSXML.parse(
            "<Response><Errors><Error><Code>AuthFailure</Code><Message>no</Message></Error></Errors><RequestID>r</RequestID></Response>")
        #expect(root.path("Errors", "Error")?.value("Code") == "AuthFailure")
        #expect(root.first("Message")?.text == "no")
        #expect(root.first("Nothing") == nil)
    }

    @Test(arguments: ["", "<a>", "<a></b>", "<a>&bogus;</a>", "<a x=1/>", "<a/><b/>", "just text",
                      "<!doctype html><html><p>unclosed</html>"])
    func rejectsMalformedDocuments(_ text: String) {
        #expect(throws: AWSXMLParseError.self) { try AWSXML.parse(text) }
    }

    @Test func skipsADoctypeAndAByteOrderMark() throws {
        let root = try AWSXML.parse([0xEF, 0xBB, 0xBF] + Array("<!DOCTYPE r [<!ENTITY x \"y\">]><r>ok</r>".utf8))
        #expect(root.text == "ok")
    }
}

@Suite struct AWSQueryErrorCodeTests {
    private func error(_ code: String, action: String) throws -> KubeIPError {
        let document = try AWSXML.parse(
            "<Response><Errors><Error><Code>\(code)</Code><Message>the filter is wrong</Message></Error></Errors></Response>")
        return AWSQueryError.map(status: 400, document: document, service: "ec2", action: action)
    }

    @Test func eachErrorCarriesEC2sCode() throws {
        let taken = try error("Resource.AlreadyAssociated", action: "AssociateAddress")
        #expect(taken.code == .conflict && taken.providerCode == "Resource.AlreadyAssociated")
        // Only DescribeAddresses carries the user's filter: decided by the action and the code, not the text.
        #expect(try error("InvalidParameterValue", action: "DescribeAddresses").setting == "filter")
        let instances = try error("InvalidParameterValue", action: "DescribeInstances")
        #expect(instances.setting == nil && instances.providerCode == "InvalidParameterValue")
    }
}
