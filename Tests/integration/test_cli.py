"""Settings validation (exit 78 before any cloud call) and the one-shot subcommands."""

from __future__ import annotations

import json
import re

import pytest

from harness import Cloud, KubeIP, json_strings


def names_setting(text: str, key: str) -> bool:
    """The message names the setting, as its key (`retry-interval`) or variable (`RETRY_INTERVAL`)."""
    return key in text.lower().replace("_", "-")


@pytest.mark.parametrize("env,key", [
    ({"FILTER": "Name=tag:kubeip"}, "filter"),
    ({"FILTER": "Values=reserved"}, "filter"),
    ({"RETRY_INTERVAL": "soon"}, "retry-interval"),
    ({"RELEASE_ON_EXIT": "maybe"}, "release-on-exit"),
    ({"LOG_LEVEL": "loud"}, "log-level"),
], ids=["filter-no-values", "filter-no-name", "retry-interval", "release-on-exit", "log-level"])
@pytest.mark.parametrize("command", ["run", "check"])
def test_invalid_setting_exits_78_before_any_cloud_call(cloud: Cloud, kubeip: KubeIP,
                                                        command: str, env: dict[str, str], key: str) -> None:
    inst = cloud.fleet(instances=1, pool=2, decoys=1)[0]
    before = cloud.snapshot()
    r = kubeip.run(inst, command, env=env, timeout=30)
    assert r.returncode == 78, r
    assert names_setting(r.stderr, key), f"stderr should name {key}:\n{r.stderr}"
    # nothing reached EC2 or the metadata service, and nothing changed
    assert cloud.proxy.calls == [], cloud.proxy.actions()
    assert inst.imds.requests == [], [(q.method, q.path) for q in inst.imds.requests]
    assert cloud.snapshot() == before


def test_invalid_flag_exits_78(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    r = kubeip.run(inst, "run", "--filter", "Name=tag:kubeip", timeout=30)
    assert r.returncode == 78, r
    assert names_setting(r.stderr, "filter"), r.stderr
    assert cloud.proxy.calls == []


def test_invalid_config_file_exits_78(cloud: Cloud, kubeip: KubeIP, tmp_path) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    conf = tmp_path / "kubeip.yaml"
    conf.write_text("retry-interval: soon\n")
    # RETRY_INTERVAL would win over the file (environment > file): leave it out
    r = kubeip.run(inst, "run", env={"KUBEIP_CONFIG": str(conf), "RETRY_INTERVAL": None}, timeout=30)
    assert r.returncode == 78, r
    assert names_setting(r.stderr, "retry-interval"), r.stderr
    assert cloud.proxy.calls == []


def test_check_prints_the_plan_and_changes_nothing(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=3, decoys=2)[0]
    before = cloud.snapshot()

    r = kubeip.run(inst, "check")
    assert r.returncode == 0, r
    assert inst.id in r.stdout, r.stdout
    for a in cloud.pool:
        assert a.public_ip in r.stdout or a.allocation_id in r.stdout, f"candidate {a.public_ip} missing:\n{r.stdout}"
    for a in cloud.decoys:
        assert a.public_ip not in r.stdout and a.allocation_id not in r.stdout, \
            f"decoy {a.public_ip} is not in the filtered pool:\n{r.stdout}"

    j = kubeip.run(inst, "check", "--json")
    assert j.returncode == 0, j
    doc = json.loads(j.stdout)
    words = " ".join(json_strings(doc))
    assert inst.id in words
    for a in cloud.pool:
        assert a.public_ip in words or a.allocation_id in words
    for a in cloud.decoys:
        assert a.public_ip not in words

    assert cloud.snapshot() == before
    assert cloud.proxy.mutations() == [], [c.action for c in cloud.proxy.mutations()]


def test_check_with_an_empty_pool_is_valid(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=0, decoys=1)[0]
    r = kubeip.run(inst, "check")
    assert r.returncode == 0, r
    assert cloud.proxy.mutations() == []


def test_status_names_the_held_address(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=2, decoys=1)[0]
    d = kubeip.daemon(inst, {"RELEASE_ON_EXIT": "false"}).wait_ready()
    ip = d.held_ip()
    held = cloud.by_ip(ip)
    cloud.proxy.clear()

    # while the daemon runs: status only reads (the cloud and the state file)
    j = kubeip.run(inst, "status", "--json", dirs=d.dirs)
    assert j.returncode == 0, j
    doc = json.loads(j.stdout)
    assert ip in json_strings(doc), j.stdout
    assert inst.id in json_strings(doc), j.stdout

    t = kubeip.run(inst, "status", dirs=d.dirs)
    assert t.returncode == 0, t
    assert ip in t.stdout

    assert cloud.proxy.mutations() == []
    assert cloud.by_ip(ip)["AssociationId"] == held["AssociationId"]
    assert d.running()


def test_version(cloud: Cloud, kubeip: KubeIP) -> None:
    inst = cloud.fleet(instances=1, pool=0, decoys=0)[0]
    r = kubeip.run(inst, "version")
    assert r.returncode == 0, r
    assert re.fullmatch(r"kubeip \S+\n?", r.stdout), r.stdout
    assert cloud.proxy.calls == []


def test_setting_layers(cloud: Cloud, kubeip: KubeIP, tmp_path) -> None:
    """flags > environment > conf.d/*.yaml (lexical) > kubeip.yaml: a bad value in a lower
    layer is hidden by a good one above it, so `check` passes; a bad top layer fails."""
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    etc = tmp_path / "etc-kubeip"
    (etc / "conf.d").mkdir(parents=True)
    (etc / "kubeip.yaml").write_text("retry-interval: soon\n")
    conf = {"KUBEIP_CONFIG": str(etc / "kubeip.yaml"), "RETRY_INTERVAL": None}

    assert kubeip.run(inst, "check", env=conf).returncode == 78
    (etc / "conf.d" / "10-bad.yaml").write_text("retry-interval: later\n")
    (etc / "conf.d" / "20-good.yaml").write_text("retry-interval: 2s\n")
    r = kubeip.run(inst, "check", env=conf)
    assert r.returncode == 0, r
    (etc / "conf.d" / "30-bad.yaml").write_text("retry-interval: never\n")
    assert kubeip.run(inst, "check", env=conf).returncode == 78
    r = kubeip.run(inst, "check", env={**conf, "RETRY_INTERVAL": "3s"})
    assert r.returncode == 0, r
    assert kubeip.run(inst, "check", env={**conf, "RETRY_INTERVAL": "whenever"}).returncode == 78
    r = kubeip.run(inst, "check", "--retry-interval", "4s", env={**conf, "RETRY_INTERVAL": "whenever"})
    assert r.returncode == 0, r
    assert cloud.proxy.mutations() == []
