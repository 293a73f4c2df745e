import KubeIPCore
import KubeIPHTTP

/// An AWS partition: a set of regions that share a DNS suffix.
struct AWSPartition: Sendable, Equatable {
    /// `aws`, `aws-cn`, …
    let name: String
    /// How its region names begin; empty for `aws`, which takes every region no other partition claims.
    let regionPrefix: String
    /// The domain its service host names end with.
    let dnsSuffix: String

    static let aws = AWSPartition(name: "aws", regionPrefix: "", dnsSuffix: "amazonaws.com")

    /// The partitions other than `aws`. `us-isob-` is not a case of `us-iso-`: the dash after the prefix tells them apart.
    static let others: [AWSPartition] = [
        AWSPartition(name: "aws-cn", regionPrefix: "cn-", dnsSuffix: "amazonaws.com.cn"),
        AWSPartition(name: "aws-us-gov", regionPrefix: "us-gov-", dnsSuffix: "amazonaws.com"),
        AWSPartition(name: "aws-iso", regionPrefix: "us-iso-", dnsSuffix: "c2s.ic.gov"),
        AWSPartition(name: "aws-iso-b", regionPrefix: "us-isob-", dnsSuffix: "sc2s.sgov.gov"),
        AWSPartition(name: "eusc", regionPrefix: "eusc-", dnsSuffix: "amazonaws.eu"),
    ]

    /// The partition `region` belongs to.
    static func of(region: String) -> AWSPartition {
        others.first { region.hasPrefix($0.regionPrefix) } ?? aws
    }
}

/// Endpoints and regions.
enum AWSEndpoints {
    /// AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL; nil when neither is set.
    static func override(_ environment: [String: String], service: String) -> String? {
        for name in ["AWS_ENDPOINT_URL_\(service.uppercased())", "AWS_ENDPOINT_URL"] {
            if let value = environment[name]?.trimmedWhitespace, !value.isEmpty { return value }
        }
        return nil
    }

    /// Whether AWS_USE_FIPS_ENDPOINT asks for FIPS endpoints.
    static func usesFIPS(_ environment: [String: String]) -> Bool {
        environment["AWS_USE_FIPS_ENDPOINT"]?.trimmedWhitespace.lowercased() == "true"
    }

    /// Regions where `<service>-fips.<region>.<suffix>` exists, by service.
    ///
    /// Kept deliberately small: FIPS host names exist for EC2 in the four US commercial regions
    /// and Canada, and for STS in the four US commercial regions. In GovCloud (`us-gov-*`) the
    /// regular host names are the FIPS endpoints already. Everywhere else there is no FIPS host
    /// for these services, so AWS_USE_FIPS_ENDPOINT=true keeps the regular one rather than build
    /// a name that does not resolve. A region missing here can still be reached through
    /// AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL_STS.
    static let fipsRegions: [String: Set<String>] = [
        "ec2": ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1"],
        "sts": ["us-east-1", "us-east-2", "us-west-1", "us-west-2"],
    ]

    /// `https://<service>[-fips].<region>.<partition suffix>`, without a path.
    static func regional(_ service: String, region: String, fips: Bool) -> String {
        let suffix = AWSPartition.of(region: region).dnsSuffix
        let host = fips && fipsRegions[service]?.contains(region) == true ? "\(service)-fips" : service
        return "https://\(host).\(region).\(suffix)"
    }

    /// The EC2 endpoint for `region`, honouring the overrides and AWS_USE_FIPS_ENDPOINT; always ends with a path.
    static func ec2(_ environment: [String: String], region: String) -> String {
        let base = override(environment, service: "EC2")
            ?? regional("ec2", region: region, fips: usesFIPS(environment))
        guard let parts = URLParts(base), parts.path != "/" || base.hasSuffix("/") else { return base + "/" }
        return base
    }

    /// The STS endpoint for `region`, honouring the overrides and AWS_USE_FIPS_ENDPOINT; the
    /// global endpoint only when no region is known.
    static func sts(_ environment: [String: String], region: String?) -> String {
        if let url = override(environment, service: "STS") { return url }
        guard let region, !region.isEmpty else { return "https://sts.amazonaws.com" }
        return regional("sts", region: region, fips: usesFIPS(environment))
    }

    /// The configured region: the `region` setting, else AWS_REGION, else AWS_DEFAULT_REGION.
    static func configuredRegion(setting: String?, environment: [String: String]) -> String? {
        for value in [setting, environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]] {
            if let value = value?.trimmedWhitespace, !value.isEmpty { return value }
        }
        return nil
    }
}
