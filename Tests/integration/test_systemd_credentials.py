"""Secrets the systemd way: static keys from $CREDENTIALS_DIRECTORY (LoadCredential=), and secret
files that other users can read refused with exit 78, naming the file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from harness import REPO_ROOT, Cloud, Daemon, KubeIP, leaks, read_readme_policy

NO_ENV_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None}
FILE_KEY_ID = "AKIAITESTFROMAFILE01"


def credentials_directory(base: Path, files: dict[str, str], mode: int = 0o400) -> Path:
    """A directory laid out as systemd's LoadCredential= leaves it: one file per credential,
    each ending in a newline as `echo ... >` writes it."""
    d = base / "credentials"
    d.mkdir()
    for name, value in files.items():
        (d / name).write_text(value + "\n")
        os.chmod(d / name, mode)
    os.chmod(d, 0o500)
    return d


def shared_credentials_file(path: Path, key_id: str, secret: str, mode: int) -> Path:
    path.write_text(f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    os.chmod(path, mode)
    return path


def assert_signed_with(cloud: Cloud, key_id: str) -> None:
    assert cloud.proxy.calls, "no EC2 call was made"
    for c in cloud.proxy.calls:
        assert f"Credential={key_id}/" in c.headers.get("authorization", ""), c.headers


def assert_no_leak(d: Daemon, secret: str) -> None:
    found = leaks(d.logs + d.stdout + repr([(m.key, m.value) for m in d.messages]), [secret])
    assert found == [], found


def test_keys_from_credentials_directory(auth_cloud, auth_kubeip: KubeIP, tmp_path: Path) -> None:
    # moto checks every signature here: only the right secret, read from the files, gets through
    creds = auth_cloud.user("kubeip-node", read_readme_policy(REPO_ROOT / "README.md"))
    inst = auth_cloud.fleet(instances=1, pool=1, decoys=1)[0]
    directory = credentials_directory(tmp_path, {"aws-access-key-id": creds["AWS_ACCESS_KEY_ID"],
                                                 "aws-secret-access-key": creds["AWS_SECRET_ACCESS_KEY"]})
    d = auth_kubeip.daemon(inst, {**NO_ENV_KEYS, "CREDENTIALS_DIRECTORY": str(directory),
                                  "RELEASE_ON_EXIT": "true", "LOG_LEVEL": "trace"}).wait_ready()
    ip = d.held_ip()
    assert [a["PublicIp"] for a in auth_cloud.on_eni(inst.eni)] == [ip]
    assert_signed_with(auth_cloud, creds["AWS_ACCESS_KEY_ID"])
    refused = [(c.action, c.status, c.error_code) for c in auth_cloud.proxy.calls if c.status >= 400]
    assert refused == []
    # the keys came from the files, not the instance role (this instance has none)
    assert inst.imds.count("GET", "/latest/meta-data/iam/security-credentials/") == 0
    assert d.terminate() == 0
    assert auth_cloud.is_free(auth_cloud.pool[0].allocation_id)
    assert_no_leak(d, creds["AWS_SECRET_ACCESS_KEY"])


def test_wrong_secret_in_credentials_directory_exits_77(auth_cloud, auth_kubeip: KubeIP,
                                                          tmp_path: Path) -> None:
    creds = auth_cloud.user("kubeip-node", read_readme_policy(REPO_ROOT / "README.md"))
    inst = auth_cloud.fleet(instances=1, pool=1, decoys=0)[0]
    wrong = "itest-wrong-secret-" + secrets.token_hex(8)
    directory = credentials_directory(tmp_path, {"aws-access-key-id": creds["AWS_ACCESS_KEY_ID"],
                                                 "aws-secret-access-key": wrong})
    d = auth_kubeip.daemon(inst, {**NO_ENV_KEYS, "CREDENTIALS_DIRECTORY": str(directory)})
    assert d.wait_exit(30) == 77, d.describe()
    assert not d.ready
    assert any(c.error_code == "AuthFailure" for c in auth_cloud.proxy.calls)
    assert auth_cloud.is_free(auth_cloud.pool[0].allocation_id)
    assert_no_leak(d, wrong)


def test_world_readable_shared_credentials_file_exits_78(cloud: Cloud, kubeip: KubeIP, tmp_path: Path) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    secret = "itest-file-secret-" + secrets.token_hex(12)
    path = shared_credentials_file(tmp_path / "aws-credentials", FILE_KEY_ID, secret, 0o644)
    d = kubeip.daemon(inst, {**NO_ENV_KEYS, "AWS_SHARED_CREDENTIALS_FILE": str(path)})
    assert d.wait_exit(30) == 78, d.describe()
    assert str(path) in d.logs, f"stderr should name {path}\n{d.describe()}"
    assert "AWS_SHARED_CREDENTIALS_FILE" in d.logs, d.describe()
    assert not d.ready
    assert cloud.proxy.calls == [], "an invalid setting must stop the daemon before any cloud call"
    assert_no_leak(d, secret)


def test_private_shared_credentials_file_is_used(cloud: Cloud, kubeip: KubeIP, tmp_path: Path) -> None:
    # the same file with mode 0600 is accepted, and it is what signs the calls
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    secret = "itest-file-secret-" + secrets.token_hex(12)
    path = shared_credentials_file(tmp_path / "aws-credentials", FILE_KEY_ID, secret, 0o600)
    d = kubeip.daemon(inst, {**NO_ENV_KEYS, "AWS_SHARED_CREDENTIALS_FILE": str(path),
                             "RELEASE_ON_EXIT": "false"}).wait_ready()
    assert_signed_with(cloud, FILE_KEY_ID)
    assert d.terminate() == 0
    assert_no_leak(d, secret)


def test_bare_file_name_means_a_systemd_credential(cloud: Cloud, kubeip: KubeIP, tmp_path: Path) -> None:
    # LoadCredential=aws-credentials:/etc/kubeip/aws-credentials + AWS_SHARED_CREDENTIALS_FILE=aws-credentials
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    secret = "itest-file-secret-" + secrets.token_hex(12)
    text = f"[default]\naws_access_key_id = {FILE_KEY_ID}\naws_secret_access_key = {secret}"
    directory = credentials_directory(tmp_path, {"aws-credentials": text})
    d = kubeip.daemon(inst, {**NO_ENV_KEYS, "CREDENTIALS_DIRECTORY": str(directory),
                             "AWS_SHARED_CREDENTIALS_FILE": "aws-credentials",
                             "RELEASE_ON_EXIT": "false"}).wait_ready()
    assert_signed_with(cloud, FILE_KEY_ID)
    assert d.terminate() == 0
    assert_no_leak(d, secret)


@pytest.mark.parametrize("name", ["aws-secret-access-key", "aws-credentials"])
def test_world_readable_credential_in_directory_exits_78(cloud: Cloud, kubeip: KubeIP, tmp_path: Path,
                                                         name: str) -> None:
    inst = cloud.fleet(instances=1, pool=1, decoys=0)[0]
    secret = "itest-file-secret-" + secrets.token_hex(12)
    files = ({"aws-access-key-id": FILE_KEY_ID, "aws-secret-access-key": secret} if name == "aws-secret-access-key"
             else {"aws-credentials": f"[default]\naws_access_key_id = {FILE_KEY_ID}\naws_secret_access_key = {secret}"})
    directory = credentials_directory(tmp_path, files, mode=0o444)
    env = {**NO_ENV_KEYS, "CREDENTIALS_DIRECTORY": str(directory)}
    if name == "aws-credentials":
        env["AWS_SHARED_CREDENTIALS_FILE"] = name
    d = kubeip.daemon(inst, env)
    assert d.wait_exit(30) == 78, d.describe()
    assert str(directory / name) in d.logs or str(directory / "aws-access-key-id") in d.logs, d.describe()
    assert cloud.proxy.calls == []
    assert_no_leak(d, secret)
