"""Helpers for the kubeip integration tests: moto server, recording proxy, fleet, daemon.

Nothing here talks to the internet: every endpoint is on 127.0.0.1.
"""

from __future__ import annotations

import atexit
import ctypes
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable

import boto3
from botocore.config import Config

from imds_server import IMDSServer, InstanceMetadata, Interface, RoleCredentials

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
POOL_TAG = ("kubeip", "reserved")
POOL_FILTER = "Name=tag:kubeip,Values=reserved"
DUMMY_KEY_ID = "AKIAITESTDUMMYKEY001"

# ---------------------------------------------------------------------------------------
# Child processes: never leave one behind, even if pytest itself is killed.
# ---------------------------------------------------------------------------------------

_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()


def _die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGKILL the child when the process that forked it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:  # pragma: no cover - not Linux
        pass


def spawn(argv: list[str], **kwargs: Any) -> subprocess.Popen:
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)
    with _children_lock:
        _children.add(proc)
    return proc


def reap(proc: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM, wait, then SIGKILL. Returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    with _children_lock:
        _children.discard(proc)
    return proc.returncode


@atexit.register
def _kill_leftovers() -> None:
    with _children_lock:
        procs = list(_children)
    for p in procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------
# moto
# ---------------------------------------------------------------------------------------

class MotoServer:
    """`python -m moto.server` (the `moto_server` entry point) on a free port of 127.0.0.1."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"moto-{self.port}.log"
        self._env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "MotoServer":
        self._log = open(self.log_path, "wb")
        self.proc = spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                          env=self._env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/moto-api/data.json", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"moto server did not answer within {timeout}s:\n{self.log()}")

    def reset(self) -> None:
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            reap(self.proc)
            self.proc = None
            self._log.close()


def ec2_client(endpoint: str, key_id: str = "testing", secret: str = "testing", session_token: str | None = None):
    return boto3.client(
        "ec2", region_name=REGION, endpoint_url=endpoint,
        aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=session_token,
        config=Config(retries={"max_attempts": 1}),
    )


def iam_client(endpoint: str, key_id: str = "testing", secret: str = "testing"):
    return boto3.client(
        "iam", region_name=REGION, endpoint_url=endpoint,
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


# ---------------------------------------------------------------------------------------
# A recording proxy in front of moto: moto keeps no request log, this does.
# ---------------------------------------------------------------------------------------

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
               "trailer", "transfer-encoding", "upgrade", "expect", "content-length"}


@dataclass(frozen=True)
class ProxyCall:
    method: str
    path: str
    action: str
    params: dict[str, str]
    headers: dict[str, str]  # names in lower case
    status: int
    error_code: str | None
    at: float = field(default_factory=time.monotonic)   # when the answer came back
    body: bytes = b""
    sent: float = 0.0                                      # when the request arrived


    @property
    def mutating(self) -> bool:
        return not self.action.startswith(("Describe", "Get", "List"))


class RecordingProxy:
    """Forwards every HTTP request to `upstream` unchanged (Host header included, so SigV4
    signatures stay valid) and records the EC2 Query API action of each."""

    def __init__(self, upstream: str):
        self.upstream = urllib.parse.urlsplit(upstream)
        self._lock = threading.Lock()
        self._calls: list[ProxyCall] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self._httpd.daemon_threads = True
        self._httpd.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="ec2-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def calls(self) -> list[ProxyCall]:
        with self._lock:
            return list(self._calls)

    def actions(self) -> list[str]:
        return [c.action for c in self.calls]

    def mutations(self) -> list[ProxyCall]:
        return [c for c in self.calls if c.mutating]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def _record(self, call: ProxyCall) -> None:
        with self._lock:
            self._calls.append(call)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._thread.join(timeout=5)
        self._httpd.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self) -> None:
        proxy: RecordingProxy = self.server.proxy  # type: ignore[attr-defined]
        sent = time.monotonic()
        body = self._body()
        query = urllib.parse.urlsplit(self.path).query
        params = dict(urllib.parse.parse_qsl(query))
        ctype = self.headers.get("Content-Type", "")
        if body and "x-www-form-urlencoded" in ctype:
            params.update(urllib.parse.parse_qsl(body.decode(errors="replace")))
        conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in _HOP_BY_HOP:
                    conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            status, rheaders = resp.status, resp.getheaders()
        except OSError as e:
            status, rheaders, data = 502, [("Content-Type", "text/plain")], f"proxy: {e}".encode()
        finally:
            conn.close()
        m = re.search(rb"<Code>([^<]+)</Code>", data) if status >= 400 else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        proxy._record(ProxyCall(self.command, self.path, params.get("Action", ""), params,
                                headers, status, m.group(1).decode() if m else None, body=body, sent=sent))
        self.send_response(status)
        for k, v in rheaders:
            if k.lower() not in _HOP_BY_HOP and k.lower() not in ("server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward


# ---------------------------------------------------------------------------------------
# The fake fleet: VPC, instances with their primary ENI, an EIP pool, one IMDS each.
# ---------------------------------------------------------------------------------------

@dataclass
class Instance:
    id: str
    eni: str
    mac: str
    private_ip: str
    az: str
    imds: IMDSServer


@dataclass
class Address:
    allocation_id: str
    public_ip: str


class Cloud:
    """moto seen through boto3 (the truth), plus the proxy the daemons talk through."""

    def __init__(self, endpoint: str, proxy: RecordingProxy, key_id: str = "testing", secret: str = "testing"):
        self.endpoint = endpoint
        self.proxy = proxy
        self.ec2 = ec2_client(endpoint, key_id, secret)
        self.instances: list[Instance] = []
        self.pool: list[Address] = []
        self.decoys: list[Address] = []
        self._imds: list[IMDSServer] = []
        self._subnet: str | None = None
        self._vpc: str | None = None

    # -- setup -------------------------------------------------------------------------
    def _network(self) -> str:
        if self._subnet is None:
            self._vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            self._subnet = self.ec2.create_subnet(VpcId=self._vpc, CidrBlock="10.0.0.0/20",
                                                  AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
        return self._subnet

    def launch(self, count: int, role: RoleCredentials | None = None,
               secondary_interface: bool = False) -> list[Instance]:
        subnet = self._network()
        out = []
        resp = self.ec2.run_instances(ImageId="ami-12c6146b", InstanceType="t3.micro",
                                      MinCount=count, MaxCount=count, SubnetId=subnet)
        for raw in resp["Instances"]:
            primary = next(n for n in raw["NetworkInterfaces"] if n["Attachment"]["DeviceIndex"] == 0)
            itfs = [Interface(primary["MacAddress"], primary["NetworkInterfaceId"], 0,
                              primary["PrivateIpAddress"], subnet, self._vpc)]
            if secondary_interface:
                eni = self.ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]
                self.ec2.attach_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                                  InstanceId=raw["InstanceId"], DeviceIndex=1)
                # listed first on purpose: the daemon must pick device-number 0, not the first line
                itfs.insert(0, Interface(eni["MacAddress"], eni["NetworkInterfaceId"], 1,
                                         eni["PrivateIpAddress"], subnet, self._vpc))
            az = raw["Placement"]["AvailabilityZone"]
            md = InstanceMetadata(instance_id=raw["InstanceId"], region=REGION, availability_zone=az,
                                  interfaces=tuple(itfs), role=role)
            imds = IMDSServer(md).start()
            self._imds.append(imds)
            inst = Instance(raw["InstanceId"], primary["NetworkInterfaceId"], primary["MacAddress"],
                            primary["PrivateIpAddress"], az, imds)
            out.append(inst)
        self.instances += out
        return out

    def allocate(self, count: int, tags: dict[str, str] | None = None) -> list[Address]:
        out = []
        for _ in range(count):
            kw: dict[str, Any] = {"Domain": "vpc"}
            if tags:
                kw["TagSpecifications"] = [{"ResourceType": "elastic-ip",
                                            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
            r = self.ec2.allocate_address(**kw)
            out.append(Address(r["AllocationId"], r["PublicIp"]))
        return out

    def fleet(self, instances: int, pool: int, decoys: int = 2, **launch_kw: Any) -> list[Instance]:
        """N instances, `pool` addresses tagged kubeip=reserved and `decoys` that the filter must skip
        (alternately untagged and tagged kubeip=spare)."""
        self.pool += self.allocate(pool, dict([POOL_TAG]))
        for i in range(decoys):
            self.decoys += self.allocate(1, None if i % 2 == 0 else {"kubeip": "spare"})
        return self.launch(instances, **launch_kw) if instances else []

    def close(self) -> None:
        for s in self._imds:
            s.stop()
        self._imds.clear()

    # -- the truth ---------------------------------------------------------------------
    def addresses(self) -> list[dict[str, Any]]:
        return self.ec2.describe_addresses()["Addresses"]

    def address(self, allocation_id: str) -> dict[str, Any]:
        return self.ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"][0]

    def by_ip(self, ip: str) -> dict[str, Any]:
        return next(a for a in self.addresses() if a["PublicIp"] == ip)

    def on_eni(self, eni: str, pool_only: bool = True) -> list[dict[str, Any]]:
        ids = {a.allocation_id for a in self.pool}
        return [a for a in self.addresses()
                if a.get("NetworkInterfaceId") == eni and (not pool_only or a["AllocationId"] in ids)]

    def snapshot(self) -> list[tuple[str, str, str, str]]:
        """Everything that a claim or release could change (moto fills InstanceId only when
        associating by instance, so it is left out; see FIELD-NOTES)."""
        return sorted((a["AllocationId"], a["PublicIp"], a.get("NetworkInterfaceId") or "",
                       a.get("AssociationId") or "") for a in self.addresses())

    def is_free(self, allocation_id: str) -> bool:
        a = self.address(allocation_id)
        return not a.get("AssociationId") and not a.get("NetworkInterfaceId")


# ---------------------------------------------------------------------------------------
# The daemon under test
# ---------------------------------------------------------------------------------------

HOLDING = re.compile(r"\bholding (\S+)")


@dataclass(frozen=True)
class Notification:
    at: float
    key: str
    value: str


class NotifySocket:
    """A datagram unix socket standing in for systemd's NOTIFY_SOCKET; collects every message."""

    def __init__(self) -> None:
        # sun_path is limited to 108 bytes: keep it short, away from pytest's long tmp paths.
        self._dir = tempfile.mkdtemp(prefix="kipn-", dir="/tmp")
        self.path = os.path.join(self._dir, "notify")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._sock.settimeout(0.1)
        self._cond = threading.Condition()
        self._messages: list[Notification] = []
        self._datagrams: list[tuple[Notification, ...]] = []
        self._raw: list[str] = []
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="notify", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop:
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            text = data.decode(errors="replace")
            parsed = tuple(Notification(now, k, v) for k, _, v in
                           (line.partition("=") for line in text.split("\n") if line))
            with self._cond:
                self._raw.append(text)
                self._datagrams.append(parsed)
                self._messages.extend(parsed)
                self._cond.notify_all()

    @property
    def messages(self) -> list[Notification]:
        with self._cond:
            return list(self._messages)

    @property
    def datagrams(self) -> list[tuple[Notification, ...]]:
        """The messages grouped as they arrived: one tuple per datagram (one sd_notify call)."""
        with self._cond:
            return list(self._datagrams)

    def wait(self, pred: Callable[[list[Notification]], bool], timeout: float,
             alive: Callable[[], bool] = lambda: True) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if pred(self._messages):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or not alive():
                    return pred(self._messages)
                self._cond.wait(min(left, 0.1))

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self._sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    env: dict[str, str] = field(repr=False)

    def leaked(self, extra: Iterable[str] = ()) -> list[str]:
        values = [self.env.get("AWS_SECRET_ACCESS_KEY", ""), self.env.get("AWS_SESSION_TOKEN", ""), *extra]
        return leaks(self.stdout + self.stderr, values)


def leaks(text: str, values: Iterable[str]) -> list[str]:
    """Which of `values` (and any SigV4 signature) appear in `text`, redacted for the report."""
    found = [f"secret value {v[:6]}..." for v in values if v and v in text]
    if "Signature=" in text:
        found.append("Signature=")
    return found


class KubeIP:
    """Starts `kubeip` processes for fake instances, each with its own directories."""

    def __init__(self, binary: Path, ec2_endpoint: str, workdir: Path):
        self.binary = binary
        self.ec2_endpoint = ec2_endpoint
        self.workdir = workdir
        self.daemons: list[Daemon] = []
        self.results: list[Result] = []
        self._n = 0

    def _dirs(self, name: str) -> Path:
        self._n += 1
        d = self.workdir / f"{self._n:02d}-{name}"
        for sub in ("state", "run", "etc", "home"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "etc" / "kubeip.yaml").write_text("")
        return d

    def env(self, inst: Instance, d: Path, overrides: dict[str, str | None]) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(d / "home"),
            "AWS_CONFIG_FILE": str(d / "home" / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(d / "home" / "no-aws-credentials"),
            "AWS_ENDPOINT_URL_EC2": self.ec2_endpoint,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": inst.imds.url,
            "AWS_ACCESS_KEY_ID": DUMMY_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": "itest-secret-" + secrets.token_hex(12),
            "AWS_REGION": REGION,
            "FILTER": POOL_FILTER,
            "RETRY_INTERVAL": "1s",
            "STATE_DIRECTORY": str(d / "state"),
            "RUNTIME_DIRECTORY": str(d / "run"),
            "KUBEIP_CONFIG": str(d / "etc" / "kubeip.yaml"),
        }
        for k, v in overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def daemon(self, inst: Instance, env: dict[str, str | None] | None = None,
               args: Iterable[str] = ("run",), dirs: Path | None = None,
               launcher: Iterable[str] = ()) -> "Daemon":
        """Starts `kubeip <args>`; `launcher` (e.g. a `sh -c '... exec "$@"' sh` wrapper that
        execs the binary, keeping its pid) goes before the binary on the command line."""
        d = dirs or self._dirs(inst.id)
        prefix = list(launcher)
        if prefix:
            dm = Daemon(Path(prefix[0]), [*prefix[1:], str(self.binary), *args], self.env(inst, d, env or {}), d, inst)
        else:
            dm = Daemon(self.binary, list(args), self.env(inst, d, env or {}), d, inst)
        self.daemons.append(dm)
        return dm.start()

    def run(self, inst: Instance, *args: str, env: dict[str, str | None] | None = None,
            dirs: Path | None = None, timeout: float = 60) -> Result:
        """Run a one-shot subcommand (check, status, release, version) to completion."""
        d = dirs or self._dirs(inst.id + "-" + (args[0] if args else "x"))
        e = self.env(inst, d, env or {})
        proc = spawn([str(self.binary), *args], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"kubeip {' '.join(args)} did not finish in {timeout}s\n"
                                 f"stdout:\n{out.decode(errors='replace')}\nstderr:\n{err.decode(errors='replace')}")
        finally:
            reap(proc)
        result = Result(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), e)
        self.results.append(result)
        return result

    def close(self) -> None:
        for d in self.daemons:
            d.close()

    def leaks(self) -> dict[str, list[str]]:
        """Secrets found in the output of every process this helper started."""
        out = {f"daemon {i}": d.leaked() for i, d in enumerate(self.daemons)}
        out.update({f"one-shot #{i}": r.leaked() for i, r in enumerate(self.results)})
        return {k: v for k, v in out.items() if v}


class Daemon:
    """One `kubeip run` process with its NOTIFY_SOCKET, state and runtime directories."""

    def __init__(self, binary: Path, args: list[str], env: dict[str, str], dirs: Path, inst: Instance):
        self.binary = binary
        self.args = args
        self.env = env
        self.dirs = dirs
        self.instance = inst
        self.notify = NotifySocket()
        self.env["NOTIFY_SOCKET"] = self.notify.path
        self.stderr_path = dirs / "stderr.log"
        self.stdout_path = dirs / "stdout.log"
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        # Values outside the environment that must not be logged either (a kubeconfig's token).
        self.extra_secrets: list[str] = []

    def start(self) -> "Daemon":
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        self.started_at = time.monotonic()
        self.proc = spawn([str(self.binary), *self.args], env=self.env, stdout=self._out, stderr=self._err)
        return self

    # -- observation -------------------------------------------------------------------
    @property
    def logs(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def messages(self) -> list[Notification]:
        return self.notify.messages

    def statuses(self) -> list[str]:
        return [m.value for m in self.messages if m.key == "STATUS"]

    def last_status(self) -> str | None:
        s = self.statuses()
        return s[-1] if s else None

    def count(self, key: str, value: str | None = None) -> int:
        return sum(1 for m in self.messages if m.key == key and (value is None or m.value == value))

    @property
    def ready(self) -> bool:
        return self.count("READY", "1") > 0

    def held_ip(self) -> str | None:
        """The address from the latest "holding <ip> ..." status."""
        for s in reversed(self.statuses()):
            m = HOLDING.search(s)
            if m:
                return m.group(1)
        return None

    def describe(self) -> str:
        rc = self.proc.poll() if self.proc else None
        return (f"kubeip {' '.join(self.args)} for {self.instance.id} (exit {rc})\n"
                f"notifications: {[(m.key, m.value) for m in self.messages]}\n"
                f"stderr (tail):\n{self.logs[-6000:]}")

    # -- waiting -----------------------------------------------------------------------
    def wait_for(self, pred: Callable[[list[Notification]], bool], timeout: float) -> bool:
        return self.notify.wait(pred, timeout, alive=self.running)

    def wait_ready(self, timeout: float = 30.0, after: float = 0.0) -> "Daemon":
        """Wait for READY=1 (sent after `after`, a time.monotonic() value); fail with the logs."""
        ok = self.wait_for(lambda ms: any(m.key == "READY" and m.value == "1" and m.at >= after for m in ms),
                           timeout)
        if not ok:
            raise AssertionError(f"no READY=1 within {timeout}s\n{self.describe()}")
        return self

    def wait_status(self, needle: str, timeout: float = 30.0) -> str:
        found: list[str] = []

        def pred(ms: list[Notification]) -> bool:
            for m in ms:
                if m.key == "STATUS" and needle in m.value:
                    found.append(m.value)
                    return True
            return False

        if not self.wait_for(pred, timeout):
            raise AssertionError(f"no STATUS containing {needle!r} within {timeout}s\n{self.describe()}")
        return found[0]

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout}s\n{self.describe()}") from None

    # -- control -----------------------------------------------------------------------
    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait for the exit status (SIGKILL and fail if it hangs)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"did not exit within {timeout}s of SIGTERM\n{self.describe()}") from None
        return self.proc.returncode

    def secrets(self) -> list[str]:
        """Every value that must never appear in a log line."""
        out = [self.env.get("AWS_SECRET_ACCESS_KEY", ""), self.env.get("AWS_SESSION_TOKEN", "")]
        out += self.extra_secrets
        out += self.instance.imds.issued_tokens
        role = self.instance.imds.metadata.role
        if role is not None:
            out += [role.secret_access_key, role.token]
        return [s for s in out if s]

    def leaked(self) -> list[str]:
        return leaks(self.logs + self.stdout, self.secrets())

    def close(self) -> None:
        if self.proc is not None:
            reap(self.proc)
        for f in ("_err", "_out"):
            if hasattr(self, f):
                getattr(self, f).close()
        self.notify.close()


def json_strings(obj: Any) -> list[str]:
    """Every string (keys and values) inside a JSON document, numbers as text."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(str(k))
            out += json_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            out += json_strings(v)
    elif obj is not None:
        out.append(str(obj))
    return out


def read_readme_policy(readme: Path, marker: str = "iam-policy") -> dict[str, Any]:
    """The IAM policy README.md documents between its `marker` markers (a ```json block):
    `iam-policy` for host mode, `iam-policy-kube` for kube mode."""
    if not readme.exists():
        raise AssertionError(f"{readme} is missing: the IAM policy test reads the documented policy from it")
    text = readme.read_text()
    m = re.search(rf"<!--\s*{marker}:begin\s*-->(.*?)<!--\s*{marker}:end\s*-->", text, re.S)
    if not m:
        raise AssertionError(f"README.md has no <!-- {marker}:begin --> ... <!-- {marker}:end --> section")
    block = re.search(r"```json\s*\n(.*?)```", m.group(1), re.S)
    if not block:
        raise AssertionError(f"the {marker} section of README.md holds no ```json block")
    return json.loads(block.group(1))
