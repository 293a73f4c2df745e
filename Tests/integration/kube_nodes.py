"""Kube mode on AWS, end to end: the real binary in kube mode against moto (EC2) and the
Kubernetes API double, with a stand-in for the cloud-controller-manager that reports a Node's
ExternalIP (after a delay) once moto shows an address on the Node's primary interface.

The daemon reaches the double through a RecordingProxy (its requests, with timestamps and
bodies, comparable with the EC2 proxy's), authenticates with the kubeip ServiceAccount's token,
and is authorised by exactly the RBAC the manifests ship (packaging/kubernetes/base)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from harness import REPO_ROOT, Cloud, Daemon, Instance, KubeIP, RecordingProxy, free_port
from kube_double import KubeAPIDouble

ADMIN_TOKEN = "admin-token"
KUBEIP_TOKEN = "kubeip-sa-token-" + "5f2a9c" * 4
KUBEIP_USER = "system:serviceaccount:kube-system:kubeip"
STARTUP_TAINT = "kubeip.com/not-ready"
OTHER_TAINT = {"key": "example.com/gpu", "value": "true", "effect": "NoSchedule"}
NAMESPACE = "kube-system"
RBAC_FILES = [REPO_ROOT / "packaging" / "kubernetes" / "base" / name
              for name in ("clusterrole.yaml", "clusterrolebinding.yaml", "role.yaml", "rolebinding.yaml")]
# Instance metadata must not be needed in kube mode: every IMDS request goes nowhere.
NO_IMDS = "http://127.0.0.1:9"


def shipped_permissions() -> set[str]:
    """The shipped rules in `permissionsUsed` form: `<verb> <group/>resource[ in <namespace>]`."""
    from yaml import safe_load  # PyYAML comes with moto
    out: set[str] = set()
    for path in RBAC_FILES:
        doc = safe_load(path.read_text())
        if doc["kind"] not in ("Role", "ClusterRole"):
            continue
        where = f" in {doc['metadata']['namespace']}" if doc["kind"] == "Role" else ""
        for rule in doc["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        out.add(f"{verb} {group + '/' if group else ''}{resource}{where}")
    return out


class CloudControllerManager:
    """Reports, on each Node, the Elastic IP moto shows on the Node's primary interface, `delay`
    seconds after it appeared (the cloud-controller-manager's node controller does this)."""

    def __init__(self, cloud: Cloud, double: KubeAPIDouble, delay: float = 1.0):
        self.cloud, self.double, self.delay = cloud, double, delay
        self.nodes: dict[str, str] = {}      # node → ENI
        self.paused: set[str] = set()
        self._seen: dict[str, tuple[str | None, float]] = {}
        self._reported: dict[str, str | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ccm", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            for node, eni in list(self.nodes.items()):
                if node in self.paused:
                    continue
                try:
                    on = [a["PublicIp"] for a in self.cloud.ec2.describe_addresses(
                        Filters=[{"Name": "network-interface-id", "Values": [eni]}])["Addresses"]]
                except Exception:
                    continue
                ip = on[0] if on else None
                seen_ip, since = self._seen.get(node, (None, 0.0))
                if ip != seen_ip:
                    self._seen[node] = (ip, time.monotonic())
                    continue
                if self._reported.get(node) != ip and time.monotonic() - since >= self.delay:
                    try:
                        self.double.admin("PUT", f"nodes/{node}/external-ip", {"ip": ip})
                        self._reported[node] = ip
                    except (urllib.error.URLError, OSError):
                        pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class KubeNodes:
    """A cluster of Nodes backed by moto instances, and kubeip daemons in kube mode for them."""

    def __init__(self, binary: Path, cloud: Cloud, kubeip: KubeIP, workdir: Path, report_delay: float = 1.0):
        workdir.mkdir(parents=True, exist_ok=True)
        self.cloud, self.kubeip, self.workdir = cloud, kubeip, workdir
        self.double = KubeAPIDouble(binary, workdir / "double", {
            "users": [{"token": ADMIN_TOKEN, "name": "admin", "groups": ["system:masters"]},
                      {"token": KUBEIP_TOKEN, "serviceAccount": "kube-system/kubeip"}],
            "rbacFiles": [str(p) for p in RBAC_FILES],
        })
        self.proxy = RecordingProxy(self.double.url)
        self.ccm = CloudControllerManager(cloud, self.double, report_delay)
        self.kubeconfig = self.write_kubeconfig("kubeconfig", KUBEIP_TOKEN)
        self.node_of: dict[str, Instance] = {}

    def write_kubeconfig(self, name: str, token: str) -> Path:
        path = self.workdir / name
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "itest",
            "clusters": [{"name": "itest", "cluster": {"server": self.proxy.url}}],
            "users": [{"name": "kubeip", "user": {"token": token}}],
            "contexts": [{"name": "itest", "context": {"cluster": "itest", "user": "kubeip"}}],
        }))
        path.chmod(0o600)
        return path

    # -- the cluster -------------------------------------------------------------------
    def add_node(self, inst: Instance, name: str | None = None, taints: list[dict[str, str]] | None = None,
                 report: bool = True) -> str:
        name = name or f"ip-{inst.private_ip.replace('.', '-')}.ec2.internal"
        if taints is None:
            taints = [{"key": STARTUP_TAINT, "effect": "NoSchedule"}, OTHER_TAINT]
        self.double.admin("POST", "nodes", {
            "name": name, "providerID": f"aws:///{inst.az}/{inst.id}", "taints": taints,
            "labels": {"topology.kubernetes.io/region": inst.az[:-1], "topology.kubernetes.io/zone": inst.az},
            "addresses": [{"type": "InternalIP", "address": inst.private_ip}, {"type": "Hostname", "address": name}]})
        self.node_of[name] = inst
        if not report:
            self.ccm.paused.add(name)
        self.ccm.nodes[name] = inst.eni
        return name

    def node(self, name: str) -> dict[str, Any]:
        return self.double.admin("GET", f"nodes/{name}")

    def taint_keys(self, name: str) -> list[str]:
        return [t["key"] for t in self.node(name)["spec"].get("taints", [])]

    def external_ips(self, name: str) -> list[str]:
        return [a["address"] for a in self.node(name)["status"].get("addresses", []) if a["type"] == "ExternalIP"]

    def leases(self) -> list[dict[str, Any]]:
        return self.double.admin("GET", "leases").get("items", [])

    def events(self) -> list[dict[str, Any]]:
        return self.double.admin("GET", f"events?namespace={NAMESPACE}").get("items", [])

    def reasons(self, node: str) -> list[str]:
        return [e["reason"] for e in self.events() if e.get("regarding", {}).get("name") == node]

    def permissions_used(self) -> set[str]:
        return set(self.double.admin("GET", f"permissions?user={KUBEIP_USER}").get("permissions", []))

    def wait(self, what: str, pred, timeout: float = 30.0, daemon: Daemon | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}" + (f"\n{daemon.describe()}" if daemon else ""))

    # -- the daemons -------------------------------------------------------------------
    def env(self, node: str, **extra: str | None) -> dict[str, str | None]:
        """kubeip's environment for `node` in kube mode (MODE left to detection: NODE_NAME says kube)."""
        env: dict[str, str | None] = {
            "NODE_NAME": node, "KUBECONFIG": str(self.kubeconfig), "LEASE_NAMESPACE": NAMESPACE,
            "TAINT_KEY": STARTUP_TAINT, "AWS_EC2_METADATA_SERVICE_ENDPOINT": NO_IMDS, "LOG_LEVEL": "debug",
        }
        env.update(extra)
        return env

    def daemon(self, node: str, env: dict[str, str | None] | None = None) -> Daemon:
        inst = self.node_of[node]
        metrics = free_port()
        base = self.env(node, MODE="kube", METRICS_ADDRESS=f"127.0.0.1:{metrics}")
        base.update(env or {})
        d = self.kubeip.daemon(inst, env=base)
        d.metrics_port = metrics  # type: ignore[attr-defined]
        d.extra_secrets.append(KUBEIP_TOKEN)
        return d

    @staticmethod
    def probe(d: Daemon, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{d.metrics_port}{path}", timeout=5) as r:  # type: ignore[attr-defined]
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except (urllib.error.URLError, OSError):
            return 0

    def wait_assigned(self, node: str, d: Daemon, timeout: float = 40.0) -> str:
        """Waits until the Node is annotated with an address and its startup taint is gone."""
        def done() -> bool:
            n = self.node(node)
            return ("kubeip.com/public-ipv4" in n["metadata"].get("annotations", {})
                    and STARTUP_TAINT not in [t["key"] for t in n["spec"].get("taints", [])])
        self.wait(f"Node {node} assigned", done, timeout, d)
        return self.node(node)["metadata"]["annotations"]["kubeip.com/public-ipv4"]

    def close(self) -> None:
        self.ccm.stop()
        self.proxy.stop()
        rc = self.double.stop()
        assert rc == 0, f"kube-api-double exited {rc}"
