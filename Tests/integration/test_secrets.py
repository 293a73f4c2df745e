"""No secret, token, signature or key in the logs, even at trace level."""

from __future__ import annotations

import json
import secrets

import pytest

from harness import Cloud, KubeIP
from imds_server import RoleCredentials


@pytest.mark.parametrize("log_json", ["false", "true"])
def test_trace_logs_hold_no_secret(cloud: Cloud, kubeip: KubeIP, log_json: str) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=1)[0]
    session_token = "itest-session-token-" + secrets.token_hex(16)
    d = kubeip.daemon(inst, {"LOG_LEVEL": "trace", "LOG_JSON": log_json, "RELEASE_ON_EXIT": "true",
                             "AWS_SESSION_TOKEN": session_token}).wait_ready()
    assert d.terminate() == 0  # covers the release path too
    r = kubeip.run(inst, "check", env={"LOG_LEVEL": "trace", "LOG_JSON": log_json,
                                       "AWS_SESSION_TOKEN": session_token})
    assert r.returncode == 0, r

    # the session token did go out (as the security-token header), so the logs had a chance to leak it
    assert any(c.headers.get("x-amz-security-token") == session_token for c in cloud.proxy.calls)
    assert inst.imds.issued_tokens, "the daemon never asked IMDS for a token"
    logs = d.logs
    assert logs.strip(), "trace level should log something"
    assert d.leaked() == [], d.leaked()
    assert r.leaked(inst.imds.issued_tokens) == [], r.leaked(inst.imds.issued_tokens)
    if log_json == "true":
        for line in logs.splitlines():
            if line.strip():
                assert isinstance(json.loads(line), dict), line


def test_instance_role_credentials_from_imds(cloud: Cloud, kubeip: KubeIP) -> None:
    role = RoleCredentials(name="kubeip-node", access_key_id="ASIAITESTROLE0000001",
                           secret_access_key="itest-role-secret-" + secrets.token_hex(12),
                           token="itest-role-token-" + secrets.token_hex(24))
    inst = cloud.fleet(instances=1, pool=1, decoys=0, role=role)[0]
    d = kubeip.daemon(inst, {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                             "LOG_LEVEL": "trace", "RELEASE_ON_EXIT": "true"}).wait_ready()
    assert inst.imds.count("GET", "/latest/meta-data/iam/security-credentials/") >= 1
    # every EC2 call was signed with the role's key and carried its session token
    assert cloud.proxy.calls
    for c in cloud.proxy.calls:
        assert f"Credential={role.access_key_id}/" in c.headers.get("authorization", ""), c.headers
        assert c.headers.get("x-amz-security-token") == role.token
    assert d.terminate() == 0
    assert d.leaked() == [], d.leaked()
