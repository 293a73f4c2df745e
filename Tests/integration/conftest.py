"""Fixtures for the kubeip integration tests (moto + fake IMDSv2 + the real binary)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from harness import (REPO_ROOT, Cloud, KubeIP, MotoServer, RecordingProxy, ec2_client, iam_client)

# In auth mode moto serves this many requests unchecked, then checks every signature and
# policy. Exactly the three calls of `_bootstrap_admin` below; everything after them (IAM
# users for the daemon, VPC, instances, addresses, assertions) is signed with the admin's
# key, so the count never depends on the size of a fleet.
AUTH_BOOTSTRAP_CALLS = 3

ADMIN_POLICY = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def pytest_configure(config: pytest.Config) -> None:
    # `scripts/test` forwards SIGTERM to pytest: turn it into an interrupt so that every
    # fixture finaliser (moto, daemons, IMDS servers) still runs.
    def _interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def kubeip_bin() -> Path:
    path = Path(os.environ.get("KUBEIP_BIN") or REPO_ROOT / ".build" / "debug" / "kubeip")
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"kubeip binary not found or not executable at {path}: "
                    f"run `swift build` first or set KUBEIP_BIN", pytrace=False)
    return path


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_proxy(moto_server: MotoServer) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(moto_server.url)
    yield proxy
    proxy.stop()


@pytest.fixture
def cloud(moto_server: MotoServer, moto_proxy: RecordingProxy) -> Iterator[Cloud]:
    """A clean moto (reset before each test) and an empty request log."""
    moto_server.reset()
    moto_proxy.clear()
    c = Cloud(moto_server.url, moto_proxy)
    yield c
    c.close()


def _make_kubeip(binary: Path, c: Cloud, workdir: Path) -> Iterator[KubeIP]:
    k = KubeIP(binary, c.proxy.url, workdir)
    yield k
    k.close()
    leaks = k.leaks()
    if leaks:
        pytest.fail(f"secrets in daemon logs: {leaks}", pytrace=False)


@pytest.fixture
def kubeip(kubeip_bin: Path, cloud: Cloud, tmp_path: Path) -> Iterator[KubeIP]:
    """Starts kubeip processes against `cloud`; stops them all at the end."""
    yield from _make_kubeip(kubeip_bin, cloud, tmp_path / "kubeip")


# ---------------------------------------------------------------------------------------
# Auth mode: a moto of its own that checks SigV4 and IAM policies.
# ---------------------------------------------------------------------------------------

class AuthCloud(Cloud):
    def __init__(self, server: MotoServer, proxy: RecordingProxy, admin_key: tuple[str, str]):
        super().__init__(server.url, proxy, *admin_key)
        self.server = server
        self.iam = iam_client(server.url, *admin_key)

    def user(self, name: str, policy: dict[str, Any]) -> dict[str, str]:
        """An IAM user with `policy` inline; returns the daemon's AWS_* credentials."""
        self.iam.create_user(UserName=name)
        self.iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def _bootstrap_admin(url: str) -> tuple[str, str]:
    iam = iam_client(url)
    iam.create_user(UserName="itest-admin")                                  # 1
    iam.put_user_policy(UserName="itest-admin", PolicyName="admin",          # 2
                        PolicyDocument=json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(UserName="itest-admin")["AccessKey"]         # 3
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture
def auth_cloud(tmp_path: Path) -> Iterator[AuthCloud]:
    server = MotoServer(tmp_path / "moto-auth",
                        env={"INITIAL_NO_AUTH_ACTION_COUNT": str(AUTH_BOOTSTRAP_CALLS)}).start()
    proxy = RecordingProxy(server.url)
    try:
        admin = _bootstrap_admin(server.url)
        # The free requests are used up: an unknown key must now be refused.
        try:
            ec2_client(server.url).describe_addresses()
        except ClientError as e:
            assert e.response["Error"]["Code"] == "AuthFailure", e.response
        else:
            raise AssertionError("moto auth mode is not on after the bootstrap calls")
        c = AuthCloud(server, proxy, admin)
        yield c
        c.close()
    finally:
        proxy.stop()
        server.stop()


@pytest.fixture
def auth_kubeip(kubeip_bin: Path, auth_cloud: AuthCloud, tmp_path: Path) -> Iterator[KubeIP]:
    yield from _make_kubeip(kubeip_bin, auth_cloud, tmp_path / "kubeip")


# ---------------------------------------------------------------------------------------
# The Kubernetes API double (kube-api-double) with kubectl and the Python client.
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def kube_double_bin() -> Path:
    from kube_double import double_binary
    path = double_binary()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"kube-api-double not found or not executable at {path}: "
                    f"run `swift build` first or set KUBE_API_DOUBLE_BIN", pytrace=False)
    return path


@pytest.fixture
def kube_cluster(kube_double_bin: Path, tmp_path: Path):
    """A fresh API double on 127.0.0.1 behind a TLS front; stopped (exit 0 checked) at the end."""
    from kube_double import KubeCluster
    cluster = KubeCluster(kube_double_bin, tmp_path / "kube")
    yield cluster
    cluster.close()


@pytest.fixture
def kube_nodes(kube_double_bin: Path, cloud: Cloud, kubeip: KubeIP, tmp_path: Path):
    """Kube mode on AWS: moto, the API double with the shipped RBAC, a stand-in
    cloud-controller-manager, and kubeip daemons in kube mode (stopped at the end)."""
    from kube_nodes import KubeNodes
    nodes = KubeNodes(kube_double_bin, cloud, kubeip, tmp_path / "kube-nodes")
    yield nodes
    kubeip.close()
    nodes.close()


@pytest.fixture
def auth_kube_nodes(kube_double_bin: Path, auth_cloud: "AuthCloud", auth_kubeip: KubeIP, tmp_path: Path):
    """Kube mode against a moto that checks SigV4 and IAM policies."""
    from kube_nodes import KubeNodes
    nodes = KubeNodes(kube_double_bin, auth_cloud, auth_kubeip, tmp_path / "kube-nodes")
    yield nodes
    auth_kubeip.close()
    nodes.close()
