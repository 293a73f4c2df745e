"""Many instances, few addresses: no address on two interfaces, no interface with two
addresses, and a freed address goes to a waiter."""

from __future__ import annotations

import time
from collections import Counter

from harness import Cloud, Daemon, KubeIP

DAEMONS = 8
ADDRESSES = 4


def check_invariants(cloud: Cloud, daemons: list[Daemon]) -> None:
    """The cloud's view agrees with what every daemon says, and no double assignment."""
    enis = {d.instance.eni for d in daemons}
    pool_ids = {a.allocation_id for a in cloud.pool}
    per_eni: Counter[str] = Counter()
    for a in cloud.addresses():
        eni = a.get("NetworkInterfaceId") or ""
        if a["AllocationId"] in pool_ids and eni:
            assert eni in enis, f"{a['PublicIp']} on a foreign interface {eni}"
            per_eni[eni] += 1
        if a["AllocationId"] not in pool_ids:
            assert not eni, f"decoy {a['PublicIp']} was claimed"
    assert all(n == 1 for n in per_eni.values()), f"an interface holds two pool addresses: {per_eni}"
    for d in daemons:
        if d.ready and d.running():
            ip = d.held_ip()
            on = [a["PublicIp"] for a in cloud.on_eni(d.instance.eni)]
            assert on == [ip], f"{d.instance.id} says holding {ip}, the cloud says {on}\n{d.describe()}"


def state(d: Daemon) -> str:
    """The latest "holding ..." or "waiting ..." status (other steps come and go between them)."""
    for s in reversed(d.statuses()):
        if "holding" in s or "waiting" in s:
            return s
    return ""


def ready(daemons: list[Daemon]) -> list[Daemon]:
    return [d for d in daemons if d.ready and d.running()]


def wait_until(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def describe_all(daemons: list[Daemon]) -> str:
    return "\n\n".join(d.describe() for d in daemons)


def test_race_for_a_small_pool(cloud: Cloud, kubeip: KubeIP) -> None:
    instances = cloud.fleet(instances=DAEMONS, pool=ADDRESSES, decoys=2)
    daemons = [kubeip.daemon(i, {"RELEASE_ON_EXIT": "true"}) for i in instances]

    def settled() -> bool:
        waiting = [d for d in daemons if not d.ready and "waiting" in state(d)]
        return len(ready(daemons)) == ADDRESSES and len(waiting) == DAEMONS - ADDRESSES

    assert wait_until(settled, 90), describe_all(daemons)
    # a few more retry intervals: nobody else may become ready, nobody may lose its address
    time.sleep(3)
    assert all(d.running() for d in daemons), describe_all(daemons)
    holders = ready(daemons)
    assert len(holders) == ADDRESSES, describe_all(daemons)
    assert len({d.held_ip() for d in holders}) == ADDRESSES
    assert {d.held_ip() for d in holders} == {a.public_ip for a in cloud.pool}
    check_invariants(cloud, daemons)
    for d in daemons:
        if d not in holders:
            assert "waiting" in state(d), d.describe()
    for c in cloud.proxy.calls:
        if c.action == "AssociateAddress":
            assert c.params.get("AllowReassociation", "false").lower() == "false", c.params

    # A holder leaves and releases: one waiter takes the address, still no double assignment.
    leaving = holders[0]
    freed = leaving.held_ip()
    waiters = [d for d in daemons if d not in holders]
    assert leaving.terminate() == 0
    left_at = time.monotonic()
    assert wait_until(lambda: any(w.ready for w in waiters), 15), describe_all(waiters)
    took = time.monotonic() - left_at
    time.sleep(2)  # and no second waiter follows
    winners = [w for w in waiters if w.ready]
    assert len(winners) == 1, describe_all(waiters)
    assert winners[0].held_ip() == freed
    remaining = [d for d in daemons if d is not leaving]
    check_invariants(cloud, remaining)
    assert took < 10, f"the freed address took {took:.1f}s to be claimed"


def test_freed_address_goes_to_the_waiter(cloud: Cloud, kubeip: KubeIP) -> None:
    a, b = cloud.fleet(instances=2, pool=1, decoys=1)
    first = kubeip.daemon(a, {"RELEASE_ON_EXIT": "true"}).wait_ready()
    second = kubeip.daemon(b, {"RELEASE_ON_EXIT": "true"})
    second.wait_status("waiting", timeout=30)
    assert not second.ready

    assert first.terminate() == 0
    gone = time.monotonic()
    # RETRY_INTERVAL=1s with ±20% jitter: within a few intervals
    second.wait_ready(timeout=8)
    assert second.held_ip() == cloud.pool[0].public_ip
    assert [x["PublicIp"] for x in cloud.on_eni(b.eni)] == [cloud.pool[0].public_ip]
    assert cloud.on_eni(a.eni) == []
    assert time.monotonic() - gone < 8
