"""The Kubernetes API double (`kube-api-double`) for the integration tests, and the tools
that drive it: kubectl (through a TLS front and a generated kubeconfig) and the official
`kubernetes` Python client.

kubectl sends credentials only over TLS (kubernetes/kubectl#744: client-go's clientcmd sets
the bearer token only for https servers), so the double, which speaks plain HTTP on
127.0.0.1, gets a small TLS-terminating relay in front of it, with a throw-away self-signed
certificate for 127.0.0.1 that the kubeconfig trusts. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import select
import socket
import ssl
import subprocess
import threading
import urllib.request
from pathlib import Path
from typing import Any

from harness import REPO_ROOT, reap, spawn

KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")


def double_binary() -> Path:
    """$KUBE_API_DOUBLE_BIN, else next to $KUBEIP_BIN, else the debug build."""
    explicit = os.environ.get("KUBE_API_DOUBLE_BIN")
    if explicit:
        return Path(explicit)
    kubeip = os.environ.get("KUBEIP_BIN")
    if kubeip:
        return Path(kubeip).parent / "kube-api-double"
    return REPO_ROOT / ".build" / "debug" / "kube-api-double"


class KubeAPIDouble:
    """`kube-api-double --config FILE --port 0` on 127.0.0.1; `url` is its plain-HTTP base."""

    def __init__(self, binary: Path, workdir: Path, settings: dict[str, Any]):
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / "double.json"
        self.config_path.write_text(json.dumps(settings))
        self.log_path = workdir / "double.log"
        self._log = open(self.log_path, "wb")
        self.proc = spawn([str(binary), "--config", str(self.config_path), "--port", "0"],
                          stdout=subprocess.PIPE, stderr=self._log)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on 127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"kube-api-double did not start: {line!r}\n{self.log_path.read_text()}")
        self.port = int(line.rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """A test hook under /_double/ (no token needed)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_double/" + path.lstrip("/"), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def requests(self) -> list[dict[str, Any]]:
        return self.admin("GET", "requests")["requests"]

    def clear_requests(self) -> None:
        self.admin("DELETE", "requests")

    def stop(self) -> int:
        rc = reap(self.proc)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()
        return rc


class TLSFront:
    """A TLS-terminating TCP relay on 127.0.0.1 in front of a plain-HTTP port."""

    def __init__(self, target_port: int, workdir: Path):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        import ipaddress

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-api-double")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        cert_path, key_path = workdir / "tls.crt", workdir / "tls.key"
        cert_path.write_bytes(self.cert_pem)
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert_path, key_path)
        self._context.set_alpn_protocols(["http/1.1"])
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            thread = threading.Thread(target=self._relay, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _relay(self, client: socket.socket) -> None:
        try:
            client.settimeout(10)
            tls = self._context.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(("127.0.0.1", self._target), timeout=10)
        except (OSError, ssl.SSLError):
            client.close()
            return
        try:
            while not self._stopping.is_set():
                ready, _, _ = select.select([tls, upstream], [], [], 0.2)
                if tls in ready or tls.pending():
                    data = tls.recv(65536)
                    if not data:
                        break
                    upstream.sendall(data)
                if upstream in ready:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    tls.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            upstream.close()
            tls.close()

    def stop(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._accepter.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)


def write_kubeconfig(path: Path, server: str, ca_pem: bytes, token: str) -> Path:
    """A kubeconfig with one cluster, one user (a bearer token) and one current context."""
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "double",
        "clusters": [{"name": "double", "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": "user", "user": {"token": token}}],
        "contexts": [{"name": "double", "context": {"cluster": "double", "user": "user"}}],
    }
    path.write_text(json.dumps(config))
    return path


class Kubectl:
    """Runs kubectl with a kubeconfig (and an empty cache directory of its own)."""

    def __init__(self, kubeconfig: Path, cache_dir: Path):
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.cache_dir)}
        proc = subprocess.run([KUBECTL, "--cache-dir", str(self.cache_dir), *args], input=stdin,
                              capture_output=True, text=True, env=env, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc


# The RBAC a kube-mode deployment might ship, for the tests: nodes (get, list, patch) and
# nodes/status (patch) cluster-wide; leases and events in kube-system only.
SAMPLE_RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kubeip}
rules:
  - {apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "patch"]}
  - {apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubeip}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubeip}
subjects: [{kind: ServiceAccount, name: kubeip, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kubeip, namespace: kube-system}
rules:
  - {apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "create", "update", "delete"]}
  - {apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kubeip, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kubeip}
subjects: [{kind: ServiceAccount, name: kubeip, namespace: kube-system}]
"""

ADMIN_TOKEN = "admin-token"
KUBEIP_TOKEN = "kubeip-token"
KUBEIP_USER = "system:serviceaccount:kube-system:kubeip"


class KubeCluster:
    """A double with an admin (system:masters), kubeip's service account under SAMPLE_RBAC, two
    Nodes, a TLS front, and ways to reach it: kubectl per token, and the Python client."""

    def __init__(self, binary: Path, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "rbac.yaml").write_text(SAMPLE_RBAC)
        self.workdir = workdir
        self.double = KubeAPIDouble(binary, workdir, {
            "users": [{"token": ADMIN_TOKEN, "name": "admin", "groups": ["system:masters"]},
                      {"token": KUBEIP_TOKEN, "serviceAccount": "kube-system/kubeip"}],
            "rbacFiles": [str(workdir / "rbac.yaml")],
            "nodes": [{"name": "node-1", "providerID": "aws:///us-east-1a/i-0a1",
                       "taints": [{"key": "kubeip.com/not-ready", "effect": "NoSchedule"}]},
                      {"name": "node-2", "providerID": "aws:///us-east-1b/i-0b2", "labels": {"kubeip.com/pool": "a"}}],
        })
        try:
            self.tls = TLSFront(self.double.port, workdir)
        except BaseException:
            self.double.stop()
            raise

    def kubectl(self, token: str = ADMIN_TOKEN) -> Kubectl:
        name = "".join(c for c in token if c.isalnum())
        config = write_kubeconfig(self.workdir / f"kubeconfig-{name}", self.tls.url, self.tls.cert_pem, token)
        return Kubectl(config, self.workdir / f"kubectl-cache-{name}")

    def python_client(self, token: str = ADMIN_TOKEN):
        """The official client's ApiClient, over plain HTTP (it sends tokens over HTTP too)."""
        from kubernetes import client
        configuration = client.Configuration(host=self.double.url)
        # Since client 36 the bearer token's key is "BearerToken" (its prefix is looked up there too).
        configuration.api_key = {"BearerToken": token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        return client.ApiClient(configuration)

    def close(self) -> None:
        self.tls.stop()
        rc = self.double.stop()
        assert rc == 0, f"kube-api-double exited {rc}:\n{self.double.log_path.read_text()}"
