"""A stand-in for systemd's manager object on a private D-Bus, for the shutdown-detection tests.

Runs under Debian's /usr/bin/python3 (python3-dbus, python3-gi), not under pytest's Python:

    /usr/bin/python3 fake_systemd_manager.py <bus address> <control directory>

It owns `org.freedesktop.systemd1` and serves object `/org/freedesktop/systemd1` with

* `org.freedesktop.DBus.Properties.Get("org.freedesktop.systemd1.Manager", "SystemState")` -> s
* `org.freedesktop.systemd1.Manager.ListJobs()` -> a(usssoo)

The answers are read from the control directory at every call, so a test changes them by
rewriting files, never by talking to this process:

* `state`  the SystemState string (`running`, `stopping`, `degraded`, ...)
* `jobs`   one queued job per line: `<unit> <job type>` (e.g. `poweroff.target start`)
* `hang`   when this file exists, calls are accepted and never answered (a wedged manager)

Every call is appended to `calls` (one line each: the member, and the property name for Get).
"ready" is printed on stdout once the name is owned.
"""

import os
import sys

import dbus
import dbus.exceptions
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

MANAGER_IFACE = "org.freedesktop.systemd1.Manager"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
OBJECT_PATH = "/org/freedesktop/systemd1"


def main() -> None:
    address, control = sys.argv[1], sys.argv[2]

    def path(name: str) -> str:
        return os.path.join(control, name)

    def text(name: str) -> str:
        try:
            with open(path(name)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def record(line: str) -> None:
        with open(path("calls"), "a") as f:
            f.write(line + "\n")

    def wedged() -> bool:
        return os.path.exists(path("hang"))

    class Manager(dbus.service.Object):
        # Asynchronous replies: a wedged manager simply never calls `reply`.
        @dbus.service.method(PROPS_IFACE, in_signature="ss", out_signature="v",
                             async_callbacks=("reply", "fail"))
        def Get(self, interface, name, reply, fail):
            record(f"Get {interface} {name}")
            if wedged():
                return
            if interface == MANAGER_IFACE and name == "SystemState":
                reply(dbus.String(text("state").strip(), variant_level=1))
            else:
                fail(dbus.exceptions.DBusException(f"unknown property {interface}.{name}",
                                                   name="org.freedesktop.DBus.Error.UnknownProperty"))

        @dbus.service.method(MANAGER_IFACE, in_signature="", out_signature="a(usssoo)",
                             async_callbacks=("reply", "fail"))
        def ListJobs(self, reply, fail):
            record("ListJobs")
            if wedged():
                return
            jobs = []
            for n, line in enumerate((l for l in text("jobs").splitlines() if l.strip()), start=1):
                unit, job_type = line.split()
                jobs.append(dbus.Struct((dbus.UInt32(100 + n), unit, job_type, "waiting",
                                         dbus.ObjectPath(f"{OBJECT_PATH}/job/{100 + n}"),
                                         dbus.ObjectPath(f"{OBJECT_PATH}/unit/u{n}")),
                                        signature="usssoo"))
            reply(dbus.Array(jobs, signature="(usssoo)"))

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    name = dbus.service.BusName("org.freedesktop.systemd1", bus, do_not_queue=True)
    manager = Manager(bus, OBJECT_PATH)
    print("ready", flush=True)
    loop = GLib.MainLoop()
    bus.call_on_disconnection(lambda _conn: loop.quit())
    loop.run()
    del manager, name


if __name__ == "__main__":
    main()
