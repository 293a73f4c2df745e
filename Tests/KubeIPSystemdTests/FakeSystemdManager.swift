import Foundation

/// A private `dbus-daemon` with a Python stand-in for systemd's manager object, so the sd-bus code
/// (property read, `ListJobs` parsing) runs against a real bus. Needs `/usr/bin/dbus-daemon` and
/// python3 with the `dbus` and `gi` modules; ``isAvailable`` says whether they are present.
final class FakeSystemdManager {
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/dbus-daemon")
            && ((try? run("/usr/bin/python3", ["-c", "import dbus, dbus.service, dbus.mainloop.glib, gi"])) == 0)
    }

    let directory: TemporaryDirectory
    let address: String
    private let daemon = Process()
    private let service = Process()

    /// What the fake answers: `SystemState`, and `ListJobs` entries as (unit, job type).
    func set(state: String, jobs: [(unit: String, type: String)] = []) throws {
        try state.write(toFile: directory.file("state"), atomically: true, encoding: .utf8)
        let lines = jobs.map { "\($0.unit) \($0.type)" }.joined(separator: "\n")
        try lines.write(toFile: directory.file("jobs"), atomically: true, encoding: .utf8)
    }

    init() throws {
        directory = try TemporaryDirectory("kubeip-bus")
        address = "unix:path=\(directory.file("bus"))"
        let config = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>custom</type>
          <listen>\(address)</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/>
            <allow own="*"/>
            <allow send_destination="*"/>
            <allow receive_sender="*"/>
          </policy>
        </busconfig>
        """
        try config.write(toFile: directory.file("bus.conf"), atomically: true, encoding: .utf8)
        try set(state: "running")

        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/dbus-daemon")
        daemon.arguments = ["--config-file=\(directory.file("bus.conf"))", "--nofork", "--print-address"]
        let daemonOut = Pipe()
        daemon.standardOutput = daemonOut
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        _ = try Self.readLine(daemonOut)

        try Self.script.write(toFile: directory.file("manager.py"), atomically: true, encoding: .utf8)
        service.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        service.arguments = [directory.file("manager.py"), address, directory.path]
        let serviceOut = Pipe()
        service.standardOutput = serviceOut
        service.standardError = FileHandle.nullDevice
        try service.run()
        guard try Self.readLine(serviceOut) == "ready" else { throw CocoaError(.fileReadUnknown) }
    }

    /// Ends both processes. SIGKILL, because children started by Foundation's `Process` here may
    /// inherit a mask blocking SIGTERM.
    func stop() {
        for process in [service, daemon] where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        directory.cleanup()
    }

    private static func readLine(_ pipe: Pipe) throws -> String {
        var data = Data()
        while !data.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
            data.append(chunk)
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let script = #"""
import sys, os
import dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib

address, directory = sys.argv[1], sys.argv[2]
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection(address)
MANAGER = "org.freedesktop.systemd1.Manager"

def read(name):
    with open(os.path.join(directory, name)) as f:
        return f.read()

class Manager(dbus.service.Object):
    @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        if interface == MANAGER and name == "SystemState":
            return dbus.String(read("state"))
        raise dbus.exceptions.DBusException("no such property", name="org.freedesktop.DBus.Error.UnknownProperty")

    @dbus.service.method(MANAGER, in_signature="", out_signature="a(usssoo)")
    def ListJobs(self):
        jobs = []
        for number, line in enumerate(l for l in read("jobs").splitlines() if l.strip()):
            unit, kind = line.split()
            jobs.append((dbus.UInt32(number + 1), unit, kind, "waiting",
                         dbus.ObjectPath("/org/freedesktop/systemd1/job/%d" % (number + 1)),
                         dbus.ObjectPath("/org/freedesktop/systemd1/unit/u%d" % number)))
        return dbus.Array(jobs, signature="(usssoo)")

name = dbus.service.BusName("org.freedesktop.systemd1", bus)
Manager(bus, "/org/freedesktop/systemd1")
print("ready", flush=True)
GLib.MainLoop().run()
"""#
}
