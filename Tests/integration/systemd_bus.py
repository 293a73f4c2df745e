"""A private D-Bus message bus with a fake systemd manager on it, for `release-on-exit: shutdown`.

The daemon asks the manager named by DBUS_SYSTEM_BUS_ADDRESS whether the machine is shutting
down; these helpers give it a bus of its own (a `dbus-daemon` on a unix socket under /tmp) and
put `fake_systemd_manager.py` on it, run by Debian's /usr/bin/python3 because pytest's Python
has no `dbus` module. Nothing here touches the host's real system bus.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness import reap, spawn

DBUS_DAEMON = "/usr/bin/dbus-daemon"
SYSTEM_PYTHON = "/usr/bin/python3"
MANAGER_SCRIPT = Path(__file__).resolve().parent / "fake_systemd_manager.py"

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>{address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


def missing_tools() -> str | None:
    """Why a fake manager cannot run here, naming the Debian package to install; None if it can."""
    if not os.access(DBUS_DAEMON, os.X_OK):
        return f"{DBUS_DAEMON} is missing: apt-get install dbus"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing: apt-get install python3 python3-dbus python3-gi"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import dbus, dbus.service, dbus.mainloop.glib"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"{SYSTEM_PYTHON} cannot import dbus: apt-get install python3-dbus ({probe.stderr.strip()[-200:]})"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "from gi.repository import GLib"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"{SYSTEM_PYTHON} cannot import gi: apt-get install python3-gi ({probe.stderr.strip()[-200:]})"
    return None


def _read_line(proc: subprocess.Popen, what: str, timeout: float) -> str:
    """One line from `proc`'s stdout pipe, or an error with its stderr if it dies or stays silent."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{what} printed no line within {timeout}s (got {data!r})")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{what} exited ({proc.wait()}) before it was ready: {data!r}\n{err[-2000:]}")
        data += chunk
    return data.split(b"\n", 1)[0].decode().strip()


class FakeSystemdBus:
    """`dbus-daemon` on a fresh unix socket, optionally with the fake manager owning systemd's name.

    `address` is what the daemon gets as DBUS_SYSTEM_BUS_ADDRESS. `set()` changes the manager's
    answers at any time; `calls()` lists what it was asked, in order.
    """

    def __init__(self) -> None:
        # sun_path holds 108 bytes: stay away from pytest's long tmp paths.
        self.dir = Path(tempfile.mkdtemp(prefix="kipb-", dir="/tmp"))
        self.control = self.dir / "manager"
        self.control.mkdir()
        self.address = f"unix:path={self.dir / 'bus'}"
        self._bus: subprocess.Popen | None = None
        self._manager: subprocess.Popen | None = None
        self.set("running")

    def start(self, manager: bool = True, timeout: float = 20.0) -> "FakeSystemdBus":
        (self.dir / "bus.conf").write_text(_BUS_CONFIG.format(address=self.address))
        self._bus = spawn([DBUS_DAEMON, f"--config-file={self.dir / 'bus.conf'}", "--nofork", "--print-address"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        printed = _read_line(self._bus, "dbus-daemon", timeout)
        if not printed.startswith("unix:path=" + str(self.dir / "bus")):
            raise RuntimeError(f"dbus-daemon listens on {printed!r}, expected {self.address!r}")
        if manager:
            self._manager = spawn([SYSTEM_PYTHON, str(MANAGER_SCRIPT), self.address, str(self.control)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            line = _read_line(self._manager, "the fake systemd manager", timeout)
            if line != "ready":
                raise RuntimeError(f"the fake systemd manager said {line!r}, expected 'ready'")
        return self

    def set(self, state: str, jobs: list[tuple[str, str]] = (), hang: bool = False) -> None:
        """What the manager answers from now on: SystemState, ListJobs as (unit, job type) pairs,
        or nothing at all (`hang`)."""
        self._write("state", state + "\n")
        self._write("jobs", "".join(f"{unit} {kind}\n" for unit, kind in jobs))
        hang_file = self.control / "hang"
        if hang:
            hang_file.touch()
        else:
            hang_file.unlink(missing_ok=True)

    def _write(self, name: str, text: str) -> None:
        tmp = self.control / (name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.control / name)

    def calls(self) -> list[str]:
        """Every call the manager received, oldest first (`Get <interface> <property>`, `ListJobs`)."""
        try:
            return (self.control / "calls").read_text().splitlines()
        except FileNotFoundError:
            return []

    def clear_calls(self) -> None:
        (self.control / "calls").unlink(missing_ok=True)

    def stop(self) -> None:
        for proc in (self._manager, self._bus):
            if proc is not None:
                reap(proc, timeout=5)
                for pipe in (proc.stdout, proc.stderr):
                    if pipe is not None:
                        pipe.close()
        self._manager = self._bus = None
        shutil.rmtree(self.dir, ignore_errors=True)


def dead_bus_address(directory: Path, stale_socket: bool) -> str:
    """A bus address nobody answers on: a missing path, or a socket file whose listener is gone
    (connect() is refused) when `stale_socket`."""
    path = directory / "dead-bus"
    if stale_socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(path))
        s.close()
        assert path.exists()
    return f"unix:path={path}"
