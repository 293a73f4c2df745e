"""Self-tests of the harness (fake IMDS, moto fleet, recording proxy, auth bootstrap).
They need no kubeip binary, so a broken harness shows up as itself."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from harness import POOL_FILTER, ec2_client
from imds_server import IMDSServer, InstanceMetadata, Interface, RoleCredentials


def call(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=b"" if method == "PUT" else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode(), dict(r.headers.items())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers.items())


@pytest.fixture
def imds():
    md = InstanceMetadata(
        instance_id="i-0aaaaaaaaaaaaaaaa", region="us-east-1", availability_zone="us-east-1a",
        interfaces=(Interface("02:00:00:00:00:02", "eni-secondary", 1, "10.0.0.9"),
                    Interface("02:00:00:00:00:01", "eni-primary", 0, "10.0.0.8")),
        role=RoleCredentials("kubeip-role", "ASIAFAKE", "role-secret", "role-token"),
    )
    with IMDSServer(md) as s:
        yield s


def token(s: IMDSServer, ttl: str = "60") -> str:
    status, body, headers = call(s.url + "/latest/api/token", "PUT",
                                 {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
    assert status == 200
    assert headers["X-aws-ec2-metadata-token-ttl-seconds"] == ttl
    return body


def test_imds_requires_a_token(imds: IMDSServer) -> None:
    assert call(imds.url + "/latest/meta-data/instance-id")[0] == 401
    assert call(imds.url + "/latest/meta-data/instance-id", headers={"X-aws-ec2-metadata-token": "forged"})[0] == 401
    t = token(imds)
    assert call(imds.url + "/latest/meta-data/instance-id",
                headers={"X-aws-ec2-metadata-token": t})[:2] == (200, "i-0aaaaaaaaaaaaaaaa")
    imds.expire_tokens()
    assert call(imds.url + "/latest/meta-data/instance-id", headers={"X-aws-ec2-metadata-token": t})[0] == 401
    assert imds.token_puts == 1
    assert imds.issued_tokens == [t]
    assert imds.count(status=401) == 3


@pytest.mark.parametrize("ttl", [None, "0", "21601", "-5", "soon"])
def test_imds_token_ttl_bounds(imds: IMDSServer, ttl: str | None) -> None:
    headers = {} if ttl is None else {"X-aws-ec2-metadata-token-ttl-seconds": ttl}
    assert call(imds.url + "/latest/api/token", "PUT", headers)[0] == 400
    assert token(imds, "21600") and token(imds, "1")


def test_imds_refuses_forwarded_requests(imds: IMDSServer) -> None:
    assert call(imds.url + "/latest/api/token", "PUT",
                {"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "1.2.3.4"})[0] == 403
    assert call(imds.url + "/latest/api/token", "GET")[0] == 405


def test_imds_tree(imds: IMDSServer) -> None:
    h = {"X-aws-ec2-metadata-token": token(imds)}
    get = lambda p: call(imds.url + "/latest/meta-data/" + p, headers=h)[:2]  # noqa: E731
    assert get("placement/region") == (200, "us-east-1")
    assert get("placement/availability-zone") == (200, "us-east-1a")
    assert get("mac") == (200, "02:00:00:00:00:01")
    assert get("local-ipv4") == (200, "10.0.0.8")
    assert get("network/interfaces/macs/") == (200, "02:00:00:00:00:02/\n02:00:00:00:00:01/")
    assert get("network/interfaces/macs/02:00:00:00:00:01/device-number") == (200, "0")
    assert get("network/interfaces/macs/02:00:00:00:00:01/interface-id") == (200, "eni-primary")
    assert get("network/interfaces/macs/02:00:00:00:00:02/device-number") == (200, "1")
    assert get("iam/security-credentials/") == (200, "kubeip-role")
    creds = json.loads(get("iam/security-credentials/kubeip-role")[1])
    assert creds["Token"] == "role-token" and creds["SecretAccessKey"] == "role-secret"
    assert get("nothing/here")[0] == 404
    doc = json.loads(call(imds.url + "/latest/dynamic/instance-identity/document", headers=h)[1])
    assert doc["instanceId"] == "i-0aaaaaaaaaaaaaaaa" and doc["region"] == "us-east-1"


def test_fleet_matches_moto(cloud) -> None:
    instances = cloud.fleet(instances=3, pool=2, decoys=2)
    assert len({i.imds.port for i in instances}) == 3
    for inst in instances:
        eni = cloud.ec2.describe_network_interfaces(NetworkInterfaceIds=[inst.eni])["NetworkInterfaces"][0]
        assert eni["Attachment"]["InstanceId"] == inst.id and eni["Attachment"]["DeviceIndex"] == 0
        assert eni["MacAddress"] == inst.mac
        h = {"X-aws-ec2-metadata-token": token(inst.imds)}
        base = inst.imds.url + "/latest/meta-data/"
        assert call(base + "instance-id", headers=h)[1] == inst.id
        assert call(base + f"network/interfaces/macs/{inst.mac}/interface-id", headers=h)[1] == inst.eni
    tagged = cloud.ec2.describe_addresses(Filters=[{"Name": "tag:kubeip", "Values": ["reserved"]}])["Addresses"]
    assert sorted(a["AllocationId"] for a in tagged) == sorted(a.allocation_id for a in cloud.pool)
    assert len(cloud.addresses()) == 4
    assert POOL_FILTER == "Name=tag:kubeip,Values=reserved"


def test_secondary_interface_is_listed_first(cloud) -> None:
    inst = cloud.fleet(instances=1, pool=0, decoys=0, secondary_interface=True)[0]
    h = {"X-aws-ec2-metadata-token": token(inst.imds)}
    macs = call(inst.imds.url + "/latest/meta-data/network/interfaces/macs/", headers=h)[1].split("\n")
    assert len(macs) == 2 and macs[1] == inst.mac + "/"


def test_proxy_records_and_forwards(cloud) -> None:
    via = ec2_client(cloud.proxy.url)
    via.allocate_address(Domain="vpc")
    with pytest.raises(ClientError):
        via.associate_address(AllocationId="eipalloc-nope", NetworkInterfaceId="eni-nope")
    assert cloud.proxy.actions() == ["AllocateAddress", "AssociateAddress"]
    assert [c.mutating for c in cloud.proxy.calls] == [True, True]
    assert cloud.proxy.calls[1].status >= 400 and cloud.proxy.calls[1].error_code
    assert len(cloud.addresses()) == 1


def test_auth_mode_checks_signatures_and_policies(auth_cloud) -> None:
    from harness import ec2_client as client
    creds = auth_cloud.user("reader", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:DescribeAddresses"], "Resource": "*"}]})
    # through the proxy: it must keep SigV4 signatures valid
    reader = client(auth_cloud.proxy.url, creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"])
    assert reader.describe_addresses()["Addresses"] == []
    with pytest.raises(ClientError) as denied:
        reader.allocate_address(Domain="vpc")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "ec2:AllocateAddress" in denied.value.response["Error"]["Message"]
    forged = client(auth_cloud.proxy.url, creds["AWS_ACCESS_KEY_ID"], "not-the-secret")
    with pytest.raises(ClientError) as bad:
        forged.describe_addresses()
    assert bad.value.response["Error"]["Code"] == "AuthFailure"
    # the admin (fixture) can still build a fleet
    auth_cloud.fleet(instances=1, pool=1, decoys=1)
    assert len(auth_cloud.addresses()) == 2
