import KubeIPCore
import Testing
@testable import KubeIPAWS

@Suite struct AWSEndpointsTests {
    @Test(arguments: [
        ("us-east-1", "aws", "https://ec2.us-east-1.amazonaws.com/", "https://sts.us-east-1.amazonaws.com"),
        ("eu-west-1", "aws", "https://ec2.eu-west-1.amazonaws.com/", "https://sts.eu-west-1.amazonaws.com"),
        ("cn-northwest-1", "aws-cn", "https://ec2.cn-northwest-1.amazonaws.com.cn/", "https://sts.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "https://ec2.us-gov-west-1.amazonaws.com/", "https://sts.us-gov-west-1.amazonaws.com"),
        ("us-iso-east-1", "aws-iso", "https://ec2.us-iso-east-1.c2s.ic.gov/", "https://sts.us-iso-east-1.c2s.ic.gov"),
        ("us-isob-east-1", "aws-iso-b", "https://ec2.us-isob-east-1.sc2s.sgov.gov/", "https://sts.us-isob-east-1.sc2s.sgov.gov"),
        ("eusc-de-east-1", "eusc", "https://ec2.eusc-de-east-1.amazonaws.eu/", "https://sts.eusc-de-east-1.amazonaws.eu"),
    ])
    func regionalEndpointsUseThePartitionSuffix(_ region: String, _ partition: String, _ ec2: String, _ sts: String) {
        #expect(AWSPartition.of(region: region).name == partition)
        #expect(AWSEndpoints.ec2([:], region: region) == ec2)
        #expect(AWSEndpoints.sts([:], region: region) == sts)
    }

    @Test func fipsWhereItExistsAndTheRegularEndpointElsewhere() {
        let fips = ["AWS_USE_FIPS_ENDPOINT": "true"]
        #expect(AWSEndpoints.ec2(fips, region: "us-west-2") == "https://ec2-fips.us-west-2.amazonaws.com/")
        #expect(AWSEndpoints.sts(fips, region: "us-west-2") == "https://sts-fips.us-west-2.amazonaws.com")
        #expect(AWSEndpoints.ec2(fips, region: "ca-central-1") == "https://ec2-fips.ca-central-1.amazonaws.com/")
        #expect(AWSEndpoints.sts(fips, region: "ca-central-1") == "https://sts.ca-central-1.amazonaws.com")
        // GovCloud's regular endpoints are its FIPS endpoints; other regions have none.
        #expect(AWSEndpoints.ec2(fips, region: "us-gov-east-1") == "https://ec2.us-gov-east-1.amazonaws.com/")
        #expect(AWSEndpoints.sts(fips, region: "us-gov-east-1") == "https://sts.us-gov-east-1.amazonaws.com")
        #expect(AWSEndpoints.ec2(fips, region: "eu-central-1") == "https://ec2.eu-central-1.amazonaws.com/")
        #expect(AWSEndpoints.ec2(["AWS_USE_FIPS_ENDPOINT": " TRUE "], region: "us-east-1") == "https://ec2-fips.us-east-1.amazonaws.com/")
        #expect(AWSEndpoints.ec2(["AWS_USE_FIPS_ENDPOINT": "false"], region: "us-east-1") == "https://ec2.us-east-1.amazonaws.com/")
        // An explicit endpoint wins over FIPS.
        #expect(AWSEndpoints.ec2(["AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:5000"],
                                 region: "us-east-1") == "http://127.0.0.1:5000/")
    }
}
