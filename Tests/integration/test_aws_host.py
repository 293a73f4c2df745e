"""`kubeip run` on one fake EC2 instance: claim, hold, restart, release, signals, lock."""

from __future__ import annotations

import signal
import time

import pytest

from harness import Cloud, KubeIP

# What README's IAM policy grants; the daemon must never need anything else.
DOCUMENTED_ACTIONS = {"DescribeAddresses", "AssociateAddress", "DisassociateAddress"}


def assert_only_documented_calls(cloud: Cloud) -> None:
    actions = set(cloud.proxy.actions())
    assert actions <= DOCUMENTED_ACTIONS, f"calls outside the documented IAM policy: {actions - DOCUMENTED_ACTIONS}"
    for c in cloud.proxy.calls:
        if c.action == "AssociateAddress":
            # a claim is a compare-and-set: it must never steal an address from its holder
            assert c.params.get("AllowReassociation", "false").lower() == "false", c.params


def test_first_assignment(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=2, decoys=2)[0]
    before = {a[0]: a for a in cloud.snapshot()}

    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "false"}).wait_ready()
    ready_at = next(m.at for m in d.messages if m.key == "READY")

    ip = d.held_ip()
    assert ip in {a.public_ip for a in cloud.pool}, f"holding {ip}, not a pool address\n{d.describe()}"
    holding = next(m for m in d.messages if m.key == "STATUS" and f"holding {ip}" in m.value)
    assert holding.at <= ready_at, "READY=1 came before the address was held"
    alloc = next(a.allocation_id for a in cloud.pool if a.public_ip == ip)
    for part in (alloc, inst.eni, inst.id):
        assert part in holding.value, f"status {holding.value!r} should name {part}"

    # The truth: the address sits on the instance's primary interface, nothing else moved.
    assert [a["PublicIp"] for a in cloud.on_eni(inst.eni, pool_only=False)] == [ip]
    assert cloud.address(alloc)["AssociationId"]
    for other in cloud.pool + cloud.decoys:
        if other.allocation_id != alloc:
            assert cloud.is_free(other.allocation_id), f"{other.public_ip} should be untouched"
            assert {a[0]: a for a in cloud.snapshot()}[other.allocation_id] == before[other.allocation_id]

    assert_only_documented_calls(cloud)
    assert [c.action for c in cloud.proxy.mutations()] == ["AssociateAddress"]
    # read the pool, claim, read back: kubeip v2 needed 5 calls for this
    assert len(cloud.proxy.calls) <= 3, cloud.proxy.actions()
    # IMDSv2 only: a token was fetched and no metadata read went without it
    assert inst.imds.token_puts >= 1
    assert inst.imds.count(status=401) == 0
    assert inst.imds.count(status=403) == 0

    assert d.terminate() == 0
    assert d.count("STOPPING", "1") == 1
    assert not cloud.is_free(alloc), "RELEASE_ON_EXIT=false must keep the address"


def test_primary_interface_is_chosen(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=0, secondary_interface=True)[0]
    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "false"}).wait_ready()
    assert [a["PublicIp"] for a in cloud.on_eni(inst.eni)] == [d.held_ip()]


def _restart(cloud: Cloud, kubeip: KubeIP, keep_state: bool) -> None:
    inst = cloud.fleet(instances=1, pool=3, decoys=1)[0]
    env = {"RELEASE_ON_EXIT": "false"}
    first = kubeip.daemon(inst, env).wait_ready()
    ip = first.held_ip()
    held = cloud.by_ip(ip)
    assert first.terminate() == 0
    assert cloud.by_ip(ip)["AssociationId"] == held["AssociationId"], "stopping must not release"

    cloud.proxy.clear()
    second = kubeip.daemon(inst, env, dirs=first.dirs if keep_state else None).wait_ready()
    assert second.held_ip() == ip
    now = cloud.by_ip(ip)
    assert now["AllocationId"] == held["AllocationId"]
    # moto hands out a new association id on every (re-)association: same id = no mutation
    assert now["AssociationId"] == held["AssociationId"]
    assert cloud.proxy.mutations() == [], [c.action for c in cloud.proxy.mutations()]
    assert len(cloud.on_eni(inst.eni)) == 1


def test_restart_keeps_the_address(cloud: Cloud, kubeip: KubeIP) -> None:
    _restart(cloud, kubeip, keep_state=True)


def test_restart_without_state_file_keeps_the_address(cloud: Cloud, kubeip: KubeIP) -> None:
    # the cloud is the truth: a lost state directory must not move the address either
    _restart(cloud, kubeip, keep_state=False)


def test_release_on_exit(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=1)[0]
    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "true"}).wait_ready()
    alloc = cloud.by_ip(d.held_ip())["AllocationId"]
    assert d.terminate() == 0
    assert d.count("STOPPING", "1") == 1
    assert cloud.is_free(alloc)
    assert "DisassociateAddress" in cloud.proxy.actions()
    assert all(cloud.is_free(a.allocation_id) for a in cloud.decoys)
    assert_only_documented_calls(cloud)


def test_release_subcommand(cloud: Cloud, kubeip: KubeIP) -> None:
    inst, other = cloud.fleet(instances=2, pool=2, decoys=1)
    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "false"}).wait_ready()
    d2 = kubeip.daemon(other, {"RELEASE_ON_EXIT": "false"}).wait_ready()
    mine = cloud.by_ip(d.held_ip())
    theirs = cloud.by_ip(d2.held_ip())
    assert d.terminate() == 0
    assert not cloud.is_free(mine["AllocationId"])

    r = kubeip.run(inst, "release", dirs=d.dirs)
    assert r.returncode == 0, r
    assert cloud.is_free(mine["AllocationId"])
    # only this instance's address: the neighbour keeps its own
    assert cloud.by_ip(d2.held_ip())["AssociationId"] == theirs["AssociationId"]
    assert_only_documented_calls(cloud)


def test_release_subcommand_when_holding_nothing(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=1)[0]
    before = cloud.snapshot()
    r = kubeip.run(inst, "release")
    assert r.returncode == 0, r
    assert cloud.snapshot() == before
    assert cloud.proxy.mutations() == []


def test_sighup_reloads_without_moving(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=2, decoys=0)[0]
    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "false"}).wait_ready()
    held = cloud.by_ip(d.held_ip())
    hup = time.monotonic()
    d.signal(signal.SIGHUP)
    assert d.wait_for(lambda ms: any(m.key == "RELOADING" and m.at >= hup for m in ms), 15), d.describe()
    d.wait_ready(timeout=15, after=next(m.at for m in d.messages if m.key == "RELOADING"))
    assert d.running()
    assert cloud.by_ip(held["PublicIp"])["AssociationId"] == held["AssociationId"]
    assert d.terminate() == 0


def test_watchdog_pings(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    d = kubeip.daemon(inst, {"WATCHDOG_USEC": "1000000", "RELEASE_ON_EXIT": "false"}).wait_ready()
    # WATCHDOG=1 every WATCHDOG_USEC/2 = 0.5 s: at least 3 in the next 3 s, with slack for a busy machine
    start = time.monotonic()
    assert d.wait_for(lambda ms: sum(1 for m in ms if m.key == "WATCHDOG" and m.at >= start) >= 3, 5), d.describe()


def test_second_daemon_on_same_host_is_refused(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=2, decoys=0)[0]
    first = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "false"}).wait_ready()
    held = cloud.by_ip(first.held_ip())
    second = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "true"}, dirs=first.dirs)
    assert second.wait_exit(30) == 75, second.describe()
    assert first.running()
    assert cloud.by_ip(held["PublicIp"])["AssociationId"] == held["AssociationId"]
    assert len(cloud.on_eni(inst.eni)) == 1


def test_empty_pool_gives_up_after_retry_attempts(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=0, decoys=2)[0]
    before = cloud.snapshot()
    d = kubeip.daemon(inst, {"RETRY_ATTEMPTS": "2"})
    assert d.wait_exit(30) == 69, d.describe()
    assert any("waiting" in s for s in d.statuses()), d.describe()
    assert not d.ready
    assert cloud.snapshot() == before
    assert cloud.proxy.mutations() == []


def test_waits_for_an_empty_pool_then_claims(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=0, decoys=1)[0]
    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "false"})
    d.wait_status("waiting", timeout=30)
    assert not d.ready and d.running()
    new = cloud.allocate(1, {"kubeip": "reserved"})[0]
    cloud.pool.append(new)
    # RETRY_INTERVAL=1s (+20% jitter): a handful of intervals is plenty
    d.wait_ready(timeout=10)
    assert d.held_ip() == new.public_ip
    assert [a["AllocationId"] for a in cloud.on_eni(inst.eni)] == [new.allocation_id]


def test_region_from_metadata(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    d = kubeip.daemon(inst, {"AWS_REGION": None, "AWS_DEFAULT_REGION": None, "RELEASE_ON_EXIT": "false"})
    d.wait_ready()
    assert inst.imds.count("GET", "/latest/meta-data/placement/region") + \
        inst.imds.count("GET", "/latest/dynamic/instance-identity/document") >= 1
    for c in cloud.proxy.calls:
        assert "/us-east-1/ec2/aws4_request" in c.headers.get("authorization", ""), c.headers


@pytest.mark.parametrize("direction,expected_rank", [("asc", "1"), ("desc", "3")])
def test_order_by_tag(cloud: Cloud, kubeip: KubeIP, direction: str, expected_rank: str) -> None:
    inst = cloud.fleet(instances=1, pool=0, decoys=1)[0]
    for rank in ("2", "3", "1"):
        cloud.pool += cloud.allocate(1, {"kubeip": "reserved", "rank": rank})
    d = kubeip.daemon(inst, {"ORDER_BY": f"Tag:rank {direction}", "RELEASE_ON_EXIT": "false"}).wait_ready()
    held = cloud.by_ip(d.held_ip())
    assert {t["Key"]: t["Value"] for t in held["Tags"]}["rank"] == expected_rank


def test_lost_address_is_replaced_without_stealing_back(cloud: Cloud, kubeip: KubeIP) -> None:
    inst, other = cloud.fleet(instances=2, pool=2, decoys=1)
    d = kubeip.daemon(inst, {"RECONCILE_INTERVAL": "1s", "RELEASE_ON_EXIT": "false"}).wait_ready()
    lost = cloud.by_ip(d.held_ip())
    # an operator (or another tool) moves the address to another instance
    cloud.ec2.disassociate_address(AssociationId=lost["AssociationId"])
    moved = cloud.ec2.associate_address(AllocationId=lost["AllocationId"], NetworkInterfaceId=other.eni)
    spare = next(a for a in cloud.pool if a.allocation_id != lost["AllocationId"])

    d.wait_status(f"holding {spare.public_ip}", timeout=15)
    assert [a["PublicIp"] for a in cloud.on_eni(inst.eni)] == [spare.public_ip]
    assert cloud.address(lost["AllocationId"])["AssociationId"] == moved["AssociationId"], "stole it back"
    assert d.running()
    assert_only_documented_calls(cloud)
