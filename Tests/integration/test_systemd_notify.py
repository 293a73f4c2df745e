"""sd_notify end to end: the datagrams a real NOTIFY_SOCKET receives over a daemon's whole life
(start, watchdog, SIGHUP reload, SIGTERM stop), in order, and the watchdog's WATCHDOG_PID rule."""

from __future__ import annotations

import os
import signal
import time

from harness import Cloud, Daemon, KubeIP, Notification

WATCHDOG_USEC = 1_000_000
WATCHDOG_SECONDS = WATCHDOG_USEC / 1e6

# Runs the binary with WATCHDOG_PID set to its own pid: `exec` keeps the shell's pid ($$).
OWN_PID_LAUNCHER = ("/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh")


def fields(datagram: tuple[Notification, ...]) -> dict[str, str]:
    return {m.key: m.value for m in datagram}


def index_of(datagrams: list[tuple[Notification, ...]], key: str, value: str = "1", start: int = 0) -> list[int]:
    """Indexes (from `start`) of the datagrams carrying `key=value`."""
    return [i for i in range(start, len(datagrams)) if fields(datagrams[i]).get(key) == value]


def statuses(datagrams: list[tuple[Notification, ...]]) -> list[str]:
    return [m.value for dg in datagrams for m in dg if m.key == "STATUS"]


def assert_in_order(lines: list[str], needles: list[str], what: str) -> None:
    """Each needle is a substring of some line, each found after the previous one."""
    at = 0
    for needle in needles:
        hit = next((i for i in range(at, len(lines)) if needle in lines[i]), None)
        assert hit is not None, f"{what}: no {needle!r} after {needles[:needles.index(needle)]} in {lines}"
        at = hit + 1


def watchdogs_after(d: Daemon, since: float) -> int:
    return sum(1 for m in d.messages if m.key == "WATCHDOG" and m.at >= since)


def test_notify_sequence_through_reload_and_stop(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=2, decoys=1)[0]
    d = kubeip.daemon(inst, {"WATCHDOG_USEC": str(WATCHDOG_USEC), "WATCHDOG_PID": None,
                             "RELEASE_ON_EXIT": "false"}).wait_ready()
    ip = d.held_ip()
    held = cloud.by_ip(ip)
    alloc = held["AllocationId"]

    # a few watchdog periods while holding
    t = time.monotonic()
    assert d.wait_for(lambda ms: sum(1 for m in ms if m.key == "WATCHDOG" and m.at >= t) >= 2, 5), d.describe()

    hup = time.monotonic()
    d.signal(signal.SIGHUP)
    assert d.wait_for(lambda ms: any(m.key == "RELOADING" and m.at >= hup for m in ms), 15), d.describe()
    reloading_at = next(m.at for m in d.messages if m.key == "RELOADING")
    d.wait_ready(timeout=15, after=reloading_at)
    t = time.monotonic()
    assert d.wait_for(lambda ms: sum(1 for m in ms if m.key == "WATCHDOG" and m.at >= t) >= 2, 5), d.describe()

    assert d.terminate() == 0, d.describe()
    dgs = d.notify.datagrams
    trace = d.describe()

    # -- the shape of the whole life: READY, RELOADING, READY, STOPPING, once each, in that order
    readies = index_of(dgs, "READY")
    reloadings = index_of(dgs, "RELOADING")
    stoppings = index_of(dgs, "STOPPING")
    assert len(readies) == 2, f"READY=1 at start and after the reload only\n{trace}"
    assert len(reloadings) == 1 and len(stoppings) == 1, trace
    r1, rl, r2, st = readies[0], reloadings[0], readies[1], stoppings[0]
    assert r1 < rl < r2 < st, f"order of READY/RELOADING/READY/STOPPING: {r1}, {rl}, {r2}, {st}\n{trace}"

    # -- start-up: the steps are reported before READY=1, which comes with the holding line
    assert_in_order(statuses(dgs[:r1]), ["identifying this instance", f"claiming {ip} ({alloc})", f"holding {ip}"],
                    "before READY=1")
    ready = fields(dgs[r1])
    assert ready.get("STATUS", "").startswith(f"holding {ip} ({alloc})"), ready
    for part in (inst.eni, inst.id):
        assert part in ready["STATUS"], f"READY's status {ready['STATUS']!r} should name {part}"

    # -- watchdog: alone in its datagram, all through the life, never a period without one
    pings = [dg[0] for dg in dgs if "WATCHDOG" in fields(dg)]
    assert all(len(dg) == 1 for dg in dgs if "WATCHDOG" in fields(dg)), "WATCHDOG=1 shares a datagram"
    assert all(p.value == "1" for p in pings)
    assert len(index_of(dgs, "WATCHDOG", start=r1)) - len(index_of(dgs, "WATCHDOG", start=rl)) >= 2, trace
    assert len(index_of(dgs, "WATCHDOG", start=r2)) >= 2, trace
    until = dgs[st][0].at
    live = [p.at for p in pings if p.at <= until]
    gaps = [b - a for a, b in zip(live, live[1:])]
    assert gaps and max(gaps) < WATCHDOG_SECONDS, \
        f"a watchdog period ({WATCHDOG_SECONDS}s) went by without WATCHDOG=1: gaps {gaps}"

    # -- SIGHUP: RELOADING=1 with the monotonic time of the reload, then READY=1, same address
    reload = fields(dgs[rl])
    assert set(reload) == {"RELOADING", "MONOTONIC_USEC"}, reload
    usec = int(reload["MONOTONIC_USEC"])
    # time.monotonic() is CLOCK_MONOTONIC, the clock systemd reads the value against
    assert hup * 1e6 - 1000 <= usec <= dgs[rl][0].at * 1e6 + 1000, \
        f"MONOTONIC_USEC={usec} is not between SIGHUP ({hup * 1e6:.0f}) and its arrival ({dgs[rl][0].at * 1e6:.0f})"
    during = statuses(dgs[rl + 1:r2])
    assert any("configuration reloaded" in s for s in during), during
    assert not any("claiming" in s or "releasing" in s for s in statuses(dgs[rl:])), \
        f"the reload moved the address: {statuses(dgs[rl:])}"
    assert fields(dgs[r2]).get("STATUS", "").startswith(f"holding {ip} ({alloc})"), fields(dgs[r2])

    # -- SIGTERM: STOPPING=1 (saying it keeps the address) and nothing after it but a last ping
    stop = fields(dgs[st])
    assert stop.get("STATUS") == f"stopping, keeping {ip}", stop
    after = [fields(dg) for dg in dgs[st + 1:] if "WATCHDOG" not in fields(dg)]
    assert after == [], f"notifications after STOPPING=1: {after}"

    # -- the truth: attached once, never moved or re-attached across the reload or the stop
    assert [c.action for c in cloud.proxy.mutations()] == ["AssociateAddress"], cloud.proxy.actions()
    assert cloud.by_ip(ip)["AssociationId"] == held["AssociationId"]
    assert [a["PublicIp"] for a in cloud.on_eni(inst.eni)] == [ip]


def test_watchdog_pid_naming_the_daemon_enables_pings(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    d = kubeip.daemon(inst, {"WATCHDOG_USEC": str(WATCHDOG_USEC), "RELEASE_ON_EXIT": "false"},
                      launcher=OWN_PID_LAUNCHER).wait_ready()
    assert d.proc is not None
    # the shell exec'd the daemon: the pid the environment names is the daemon's
    assert os.path.realpath(f"/proc/{d.proc.pid}/exe") == os.path.realpath(kubeip.binary)
    start = time.monotonic()
    assert d.wait_for(lambda ms: sum(1 for m in ms if m.key == "WATCHDOG" and m.at >= start) >= 3, 5), d.describe()
    assert d.terminate() == 0


def test_watchdog_pid_of_another_process_disables_pings(cloud: Cloud, kubeip: KubeIP) -> None:
    # WATCHDOG_USEC meant for another process (e.g. inherited from a parent service): no pings
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    d = kubeip.daemon(inst, {"WATCHDOG_USEC": str(WATCHDOG_USEC), "WATCHDOG_PID": str(os.getpid()),
                             "RELEASE_ON_EXIT": "false"}).wait_ready()
    start = time.monotonic()
    # three would-be periods of WATCHDOG_USEC/2
    assert not d.wait_for(lambda ms: any(m.key == "WATCHDOG" for m in ms), 3 * WATCHDOG_SECONDS / 2), d.describe()
    assert watchdogs_after(d, 0) == 0 and time.monotonic() - start >= 1.4
    assert d.terminate() == 0
    assert d.count("WATCHDOG") == 0, d.describe()


def test_failed_reload_still_ends_with_ready(cloud: Cloud, kubeip: KubeIP) -> None:
    # Type=notify-reload waits for READY=1 after RELOADING=1, whether the new configuration is good or not
    # (the broken key must be one the harness does not set in the environment, which outranks the file)
    inst = cloud.fleet(instances=1, pool=2, decoys=0)[0]
    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "false"}).wait_ready()
    ip = d.held_ip()
    held = cloud.by_ip(ip)
    (d.dirs / "etc" / "kubeip.yaml").write_text("reconcile-interval: not-a-duration\n")
    hup = time.monotonic()
    d.signal(signal.SIGHUP)
    assert d.wait_for(lambda ms: any(m.key == "RELOADING" and m.at >= hup for m in ms), 15), d.describe()
    reloading_at = next(m.at for m in d.messages if m.key == "RELOADING")
    d.wait_ready(timeout=15, after=reloading_at)
    assert d.running()
    after = [m.value for m in d.messages if m.key == "STATUS" and m.at >= reloading_at]
    assert any("reload failed" in s and "reconcile-interval" in s for s in after), after
    assert after[-1].startswith(f"holding {ip}"), after
    assert cloud.by_ip(ip)["AssociationId"] == held["AssociationId"]
    assert d.terminate() == 0
