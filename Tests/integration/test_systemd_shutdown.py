"""`release-on-exit: shutdown`: on SIGTERM the daemon asks systemd's manager (here a fake one on a
private D-Bus, through DBUS_SYSTEM_BUS_ADDRESS) whether the machine is going down. Shutting down:
release the address. A service stop or restart: keep it. No answer: keep it (never lose an address
by mistake)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from harness import Cloud, Daemon, KubeIP
from systemd_bus import FakeSystemdBus, dead_bus_address, missing_tools

GET_STATE = "Get org.freedesktop.systemd1.Manager SystemState"


@pytest.fixture
def systemd_bus() -> Iterator[FakeSystemdBus]:
    why = missing_tools()
    if why:
        pytest.fail(f"the shutdown tests need a private D-Bus with a fake systemd manager: {why} "
                    f"(.ci/run installs dbus python3-dbus python3-gi)", pytrace=False)
    bus = FakeSystemdBus().start()
    yield bus
    bus.stop()


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A directory with a short path, for unix sockets (sun_path holds 108 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="kipd-", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start(cloud: Cloud, kubeip: KubeIP, bus_address: str) -> tuple[Daemon, dict]:
    inst = cloud.fleet(instances=1, pool=2, decoys=1)[0]
    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "shutdown", "DBUS_SYSTEM_BUS_ADDRESS": bus_address,
                             "LOG_LEVEL": "debug"}).wait_ready()
    return d, cloud.by_ip(d.held_ip())


def stopping_status(d: Daemon) -> str:
    # The daemon has exited; its last datagram may still be on its way to the reader thread.
    d.notify.wait(lambda ms: any(m.key == "STOPPING" for m in ms), 5.0, alive=lambda: True)
    dgs = [dg for dg in d.notify.datagrams if any(m.key == "STOPPING" for m in dg)]
    assert len(dgs) == 1, d.describe()
    return next(m.value for m in dgs[0] if m.key == "STATUS")


def assert_kept(cloud: Cloud, d: Daemon, held: dict) -> None:
    ip = held["PublicIp"]
    assert stopping_status(d) == f"stopping, keeping {ip}", d.describe()
    assert cloud.by_ip(ip)["AssociationId"] == held["AssociationId"], "the address was released"
    assert [a["PublicIp"] for a in cloud.on_eni(d.instance.eni)] == [ip]
    assert "DisassociateAddress" not in cloud.proxy.actions()
    assert "keeping the address" in d.logs, d.describe()


def assert_released(cloud: Cloud, d: Daemon, held: dict) -> None:
    ip = held["PublicIp"]
    assert stopping_status(d) == f"stopping, releasing {ip}", d.describe()
    assert cloud.is_free(held["AllocationId"]), f"{ip} is still attached\n{d.describe()}"
    assert cloud.on_eni(d.instance.eni) == []
    assert [c.action for c in cloud.proxy.mutations()] == ["AssociateAddress", "DisassociateAddress"]
    assert "shutting down: releasing" in d.logs, d.describe()


@pytest.mark.parametrize("state", ["running", "degraded"])
def test_service_stop_keeps_the_address(cloud: Cloud, kubeip: KubeIP, systemd_bus: FakeSystemdBus,
                                        state: str) -> None:
    systemd_bus.set(state, jobs=[("kubeip.service", "stop")])
    d, held = start(cloud, kubeip, systemd_bus.address)
    assert systemd_bus.calls() == [], "the manager is asked at stop time, not before"
    assert d.terminate() == 0, d.describe()
    assert_kept(cloud, d, held)
    # both looks were taken: the state, then the queued jobs
    assert systemd_bus.calls() == [GET_STATE, "ListJobs"], systemd_bus.calls()


def test_machine_shutdown_releases_the_address(cloud: Cloud, kubeip: KubeIP, systemd_bus: FakeSystemdBus) -> None:
    d, held = start(cloud, kubeip, systemd_bus.address)
    # the machine starts going down after the daemon came up: the answer at SIGTERM is what counts
    systemd_bus.set("stopping", jobs=[("shutdown.target", "start"), ("kubeip.service", "stop")])
    assert d.terminate() == 0, d.describe()
    assert_released(cloud, d, held)
    assert systemd_bus.calls()[0] == GET_STATE


@pytest.mark.parametrize("target", ["poweroff.target", "reboot.target"])
def test_queued_shutdown_job_releases_the_address(cloud: Cloud, kubeip: KubeIP, systemd_bus: FakeSystemdBus,
                                                  target: str) -> None:
    # SystemState still says running (the job is queued, not started): the job list decides
    d, held = start(cloud, kubeip, systemd_bus.address)
    systemd_bus.set("running", jobs=[("kubeip.service", "stop"), (target, "start")])
    assert d.terminate() == 0, d.describe()
    assert_released(cloud, d, held)
    assert systemd_bus.calls() == [GET_STATE, "ListJobs"], systemd_bus.calls()


def test_unrelated_jobs_keep_the_address(cloud: Cloud, kubeip: KubeIP, systemd_bus: FakeSystemdBus) -> None:
    d, held = start(cloud, kubeip, systemd_bus.address)
    systemd_bus.set("running", jobs=[("kubeip.service", "restart"), ("poweroff.target", "stop"),
                                     ("reboot.service", "start"), ("multi-user.target", "start")])
    assert d.terminate() == 0, d.describe()
    assert_kept(cloud, d, held)


@pytest.mark.parametrize("stale_socket", [False, True], ids=["no-socket", "stale-socket"])
def test_unreachable_bus_keeps_the_address(cloud: Cloud, kubeip: KubeIP, short_tmp: Path, stale_socket: bool) -> None:
    d, held = start(cloud, kubeip, dead_bus_address(short_tmp, stale_socket))
    assert d.terminate() == 0, d.describe()
    assert_kept(cloud, d, held)
    assert "cannot read systemd's SystemState" in d.logs, d.describe()


def test_bus_without_systemd_keeps_the_address(cloud: Cloud, kubeip: KubeIP) -> None:
    why = missing_tools()
    if why:
        pytest.fail(f"this test needs a private D-Bus: {why}", pytrace=False)
    bus = FakeSystemdBus().start(manager=False)   # a live bus, but nobody owns org.freedesktop.systemd1
    try:
        d, held = start(cloud, kubeip, bus.address)
        assert d.terminate() == 0, d.describe()
        assert_kept(cloud, d, held)
        assert "cannot read systemd's SystemState" in d.logs, d.describe()
    finally:
        bus.stop()


def test_wedged_manager_keeps_the_address_and_still_stops(cloud: Cloud, kubeip: KubeIP,
                                                         systemd_bus: FakeSystemdBus) -> None:
    d, held = start(cloud, kubeip, systemd_bus.address)
    systemd_bus.set("stopping", hang=True)   # would say "release", but never answers
    began = time.monotonic()
    assert d.terminate(timeout=40) == 0, d.describe()
    took = time.monotonic() - began
    # each look gives up after its call timeout (5 s): well inside systemd's TimeoutStopSec (90 s)
    assert took < 20, f"stopping took {took:.1f}s with a wedged manager"
    assert_kept(cloud, d, held)
    assert systemd_bus.calls() == [GET_STATE, "ListJobs"], systemd_bus.calls()
