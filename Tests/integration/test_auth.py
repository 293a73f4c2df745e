"""moto with SigV4 and IAM checks on: the policy README.md documents is exactly enough."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness import REPO_ROOT, KubeIP, read_readme_policy


def documented_policy() -> dict[str, Any]:
    return read_readme_policy(REPO_ROOT / "README.md")


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    """`policy` with `action` taken out of every statement."""
    p = copy.deepcopy(policy)
    statements = p["Statement"] if isinstance(p["Statement"], list) else [p["Statement"]]
    for st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        st["Action"] = [a for a in actions if a != action]
    p["Statement"] = [st for st in statements if st["Action"]]
    return p


def test_documented_policy_is_least_privilege() -> None:
    policy = documented_policy()
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    actions = set()
    for st in statements:
        assert st["Effect"] == "Allow"
        actions |= set(st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
    assert not any("*" in a for a in actions), f"wildcard action in the documented policy: {actions}"
    assert {"ec2:DescribeAddresses", "ec2:AssociateAddress", "ec2:DisassociateAddress"} <= actions


def test_documented_policy_is_enough(auth_cloud, auth_kubeip: KubeIP) -> None:
    creds = auth_cloud.user("kubeip-node", documented_policy())
    inst = auth_cloud.fleet(instances=1, pool=1, decoys=1)[0]
    env = {**creds, "RELEASE_ON_EXIT": "true"}

    d = auth_kubeip.daemon(inst, env).wait_ready()
    ip = d.held_ip()
    assert [a["PublicIp"] for a in auth_cloud.on_eni(inst.eni)] == [ip]

    for args in (("check",), ("status", "--json")):
        r = auth_kubeip.run(inst, *args, env=creds, dirs=d.dirs)
        assert r.returncode == 0, r

    assert d.terminate() == 0
    assert auth_cloud.is_free(auth_cloud.pool[0].allocation_id)
    # moto checked (and accepted) every signature and every action
    refused = [(c.action, c.status, c.error_code) for c in auth_cloud.proxy.calls if c.status >= 400]
    assert refused == []
    assert {"DescribeAddresses", "AssociateAddress", "DisassociateAddress"} <= set(auth_cloud.proxy.actions())


@pytest.mark.parametrize("missing", ["ec2:AssociateAddress", "ec2:DescribeAddresses"])
def test_missing_permission_exits_77_naming_it(auth_cloud, auth_kubeip: KubeIP, missing: str) -> None:
    creds = auth_cloud.user("kubeip-node", without(documented_policy(), missing))
    inst = auth_cloud.fleet(instances=1, pool=1, decoys=0)[0]
    d = auth_kubeip.daemon(inst, {**creds, "RELEASE_ON_EXIT": "true"})
    assert d.wait_exit(30) == 77, d.describe()
    assert missing in d.logs, d.describe()
    assert not d.ready
    assert auth_cloud.is_free(auth_cloud.pool[0].allocation_id)
    assert any(c.error_code in ("AccessDenied", "UnauthorizedOperation") for c in auth_cloud.proxy.calls)


def test_wrong_secret_exits_77(auth_cloud, auth_kubeip: KubeIP) -> None:
    creds = auth_cloud.user("kubeip-node", documented_policy())
    inst = auth_cloud.fleet(instances=1, pool=1, decoys=0)[0]
    d = auth_kubeip.daemon(inst, {"AWS_ACCESS_KEY_ID": creds["AWS_ACCESS_KEY_ID"],
                                  "AWS_SECRET_ACCESS_KEY": "itest-wrong-secret-0000"})
    assert d.wait_exit(30) == 77, d.describe()
    assert not d.ready
    assert auth_cloud.is_free(auth_cloud.pool[0].allocation_id)
    assert any(c.error_code == "AuthFailure" for c in auth_cloud.proxy.calls)
