"""A small EC2 instance-metadata (IMDSv2-only) server for integration tests.

One server answers for one fake instance. Many servers can run in one process
(each on its own thread and port on 127.0.0.1), so a test can give every fake
instance its own metadata endpoint.

Behaviour modelled on the documented IMDSv2 contract:

* ``PUT /latest/api/token`` needs ``X-aws-ec2-metadata-token-ttl-seconds`` between
  1 and 21600, else 400. A request carrying ``X-Forwarded-For`` is refused with 403.
  The answer is a fresh token (text/plain) and echoes the TTL header.
* Every ``GET`` under ``/latest/meta-data/`` or ``/latest/dynamic/`` without a valid,
  unexpired ``X-aws-ec2-metadata-token`` is answered 401 (IMDSv1 is disabled).
* A path naming a directory answers its listing, one entry per line, with a
  trailing ``/`` on sub-directories. Unknown paths answer 404.

Every request is recorded (method, path, headers, status) for assertions.

Run standalone::

    python3 imds_server.py --instance-id i-0123 --mac 02:00:00:00:00:01 \
        --interface-id eni-0123 --local-ipv4 10.0.1.4 --port 8111
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
MAX_TTL = 21600


@dataclass(frozen=True)
class Interface:
    """One network interface as IMDS describes it under network/interfaces/macs/<mac>/."""

    mac: str
    interface_id: str
    device_number: int
    local_ipv4: str
    subnet_id: str | None = None
    vpc_id: str | None = None


@dataclass(frozen=True)
class RoleCredentials:
    """Temporary credentials served under iam/security-credentials/<name>."""

    name: str
    access_key_id: str
    secret_access_key: str
    token: str
    expiration: str = "2099-01-01T00:00:00Z"


@dataclass(frozen=True)
class InstanceMetadata:
    """What the fake IMDS knows about its one instance."""

    instance_id: str
    region: str
    availability_zone: str
    interfaces: tuple[Interface, ...]
    role: RoleCredentials | None = None
    account_id: str = "123456789012"
    instance_type: str = "t3.micro"
    ami_id: str = "ami-12c6146b"

    @property
    def primary(self) -> Interface:
        return next(i for i in self.interfaces if i.device_number == 0)

    def tree(self) -> dict[str, Any]:
        """The meta-data tree: dict = directory, str = leaf."""
        macs: dict[str, Any] = {}
        for itf in self.interfaces:
            entry: dict[str, Any] = {
                "device-number": str(itf.device_number),
                "interface-id": itf.interface_id,
                "local-ipv4s": itf.local_ipv4,
                "mac": itf.mac,
            }
            if itf.subnet_id:
                entry["subnet-id"] = itf.subnet_id
            if itf.vpc_id:
                entry["vpc-id"] = itf.vpc_id
            macs[itf.mac] = entry
        primary = self.primary
        tree: dict[str, Any] = {
            "ami-id": self.ami_id,
            "instance-id": self.instance_id,
            "instance-type": self.instance_type,
            "local-ipv4": primary.local_ipv4,
            "mac": primary.mac,
            "placement": {
                "availability-zone": self.availability_zone,
                "region": self.region,
            },
            "network": {"interfaces": {"macs": macs}},
        }
        if self.role is not None:
            tree["iam"] = {
                "info": json.dumps({
                    "Code": "Success",
                    "LastUpdated": "2026-01-01T00:00:00Z",
                    "InstanceProfileArn": f"arn:aws:iam::{self.account_id}:instance-profile/{self.role.name}",
                    "InstanceProfileId": "AIPAFAKEFAKEFAKEFAKE",
                }),
                "security-credentials": {self.role.name: json.dumps({
                    "Code": "Success",
                    "LastUpdated": "2026-01-01T00:00:00Z",
                    "Type": "AWS-HMAC",
                    "AccessKeyId": self.role.access_key_id,
                    "SecretAccessKey": self.role.secret_access_key,
                    "Token": self.role.token,
                    "Expiration": self.role.expiration,
                })},
            }
        return tree

    def identity_document(self) -> str:
        return json.dumps({
            "accountId": self.account_id,
            "architecture": "x86_64",
            "availabilityZone": self.availability_zone,
            "imageId": self.ami_id,
            "instanceId": self.instance_id,
            "instanceType": self.instance_type,
            "privateIp": self.primary.local_ipv4,
            "region": self.region,
            "version": "2017-09-30",
        }, indent=2)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int
    at: float = field(default_factory=time.monotonic)


class IMDSServer:
    """An IMDSv2-only endpoint for one instance, served from a background thread."""

    def __init__(self, metadata: InstanceMetadata, host: str = "127.0.0.1", port: int = 0):
        self.metadata = metadata
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self._issued: list[str] = []
        self._requests: list[RecordedRequest] = []
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.imds = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> "IMDSServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"imds-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "IMDSServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what happened ---------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def issued_tokens(self) -> list[str]:
        with self._lock:
            return list(self._issued)

    @property
    def token_puts(self) -> int:
        return sum(1 for r in self.requests if r.method == "PUT" and r.path == TOKEN_PATH)

    def count(self, method: str | None = None, path_prefix: str = "", status: int | None = None) -> int:
        return sum(1 for r in self.requests
                   if (method is None or r.method == method)
                   and r.path.startswith(path_prefix)
                   and (status is None or r.status == status))

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def expire_tokens(self) -> None:
        """Make every issued token invalid (as if its TTL ran out)."""
        with self._lock:
            self._tokens.clear()

    # -- used by the handler ---------------------------------------------------
    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _issue(self, ttl: int) -> str:
        token = secrets.token_urlsafe(42)
        with self._lock:
            self._tokens[token] = time.monotonic() + ttl
            self._issued.append(token)
        return token

    def _valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and time.monotonic() < expiry

    def _lookup(self, path: str) -> str | None:
        if path.startswith("/latest/dynamic/"):
            rest = path[len("/latest/dynamic/"):].strip("/")
            if rest == "instance-identity/document":
                return self.metadata.identity_document()
            if rest == "instance-identity":
                return "document"
            if rest == "":
                return "instance-identity/"
            return None
        node: Any = self.metadata.tree()
        rest = path[len("/latest/meta-data"):].strip("/")
        for part in [p for p in rest.split("/") if p]:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        if isinstance(node, dict):
            return "\n".join(k + "/" if isinstance(v, dict) else k for k, v in node.items())
        return node


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"
    sys_version = ""

    @property
    def imds(self) -> IMDSServer:
        return self.server.imds  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _reply(self, status: int, body: str = "", extra: dict[str, str] | None = None) -> None:
        data = body.encode()
        # record first: the client may look at the log as soon as it has the answer
        self.imds._record(RecordedRequest(self.command, self.path,
                                          {k.lower(): v for k, v in self.headers.items()}, status))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)

    def do_PUT(self) -> None:  # noqa: N802
        self._drain()
        if self.path != TOKEN_PATH:
            return self._reply(404 if not self.path.startswith("/latest/") else 405)
        if self.headers.get("X-Forwarded-For") is not None:
            return self._reply(403)
        raw = self.headers.get(TTL_HEADER)
        try:
            ttl = int(raw) if raw is not None else 0
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= MAX_TTL:
            return self._reply(400)
        token = self.imds._issue(ttl)
        self._reply(200, token, {TTL_HEADER: str(ttl)})

    def do_GET(self) -> None:  # noqa: N802
        self._drain()
        if self.path == TOKEN_PATH:
            return self._reply(405)
        if self.headers.get("X-Forwarded-For") is not None:
            return self._reply(403)
        if not (self.path.startswith("/latest/meta-data") or self.path.startswith("/latest/dynamic/")):
            return self._reply(404)
        if not self.imds._valid(self.headers.get(TOKEN_HEADER)):
            return self._reply(401)
        body = self.imds._lookup(self.path.split("?", 1)[0])
        if body is None:
            return self._reply(404)
        self._reply(200, body)

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        self._drain()
        self._reply(405)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Serve IMDSv2 for one fake EC2 instance.")
    p.add_argument("--instance-id", default="i-0123456789abcdef0")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--availability-zone", default=None)
    p.add_argument("--mac", default="02:00:00:00:00:01")
    p.add_argument("--interface-id", default="eni-0123456789abcdef0")
    p.add_argument("--local-ipv4", default="10.0.1.4")
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args(argv)
    md = InstanceMetadata(
        instance_id=a.instance_id, region=a.region,
        availability_zone=a.availability_zone or a.region + "a",
        interfaces=(Interface(a.mac, a.interface_id, 0, a.local_ipv4),),
    )
    server = IMDSServer(md, port=a.port).start()
    print(f"IMDS for {a.instance_id} at {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
