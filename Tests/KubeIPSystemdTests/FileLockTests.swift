import Foundation
import KubeIPCore
import KubeIPSystemd
import Testing

@Suite struct FileLockTests {
    @Test func secondAcquireInTheSameProcessIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let first = try FileLock.acquire(directory: directory.path)
        #expect(first.path == directory.file("kubeip.lock"))
        #expect(first.isHeld)

        let error = #expect(throws: KubeIPError.self) { try FileLock.acquire(directory: directory.path) }
        #expect(error?.code == .lockHeld)
        #expect(error?.resource == first.path)
        #expect(error?.message == "another kubeip (pid \(getpid())) holds \(first.path)")
        #expect(error?.exitCode == 75)

        first.release()
        #expect(!first.isHeld)
        first.release()  // idempotent
        let again = try FileLock.acquire(directory: directory.path)
        #expect(again.isHeld)
    }

    @Test func writesOurPid() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try "99999999 stale\n".write(toFile: directory.file("kubeip.lock"), atomically: false, encoding: .utf8)
        let lock = try FileLock.acquire(directory: directory.path)
        #expect(try String(contentsOfFile: lock.path, encoding: .utf8) == "\(getpid())\n")
        let mode = try FileManager.default.attributesOfItem(atPath: lock.path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }

    @Test func releasedWhenDeallocated() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        do {
            let lock = try FileLock.acquire(directory: directory.path)
            #expect(lock.isHeld)
        }
        let lock = try FileLock.acquire(directory: directory.path)
        #expect(lock.isHeld)
    }

    @Test func createsMissingDirectories() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let nested = directory.file("run/kubeip")
        let lock = try FileLock.acquire(directory: nested)
        #expect(lock.path == nested + "/kubeip.lock")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: nested, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test func unusableDirectoryIsAnIOError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try "x".write(toFile: directory.file("file"), atomically: false, encoding: .utf8)
        let error = #expect(throws: KubeIPError.self) { try FileLock.acquire(directory: directory.file("file/sub")) }
        #expect(error?.code == .io)
        #expect(error?.resource == directory.file("file"))
    }

    @Test func otherProcessesSeeTheLock() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let lock = try FileLock.acquire(directory: directory.path)
        // flock(1) exits 1 when -n cannot take the lock.
        #expect(try run("/usr/bin/flock", ["-n", lock.path, "true"]) == 1)
        lock.release()
        #expect(try run("/usr/bin/flock", ["-n", lock.path, "true"]) == 0)
    }

    @Test func lockHeldByAnotherProcessIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("kubeip.lock")
        // The child takes the lock, says so, and keeps it until its standard input closes.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        child.arguments = ["-n", path, "-c", "echo locked; cat >/dev/null"]
        let input = Pipe(), output = Pipe()
        child.standardInput = input
        child.standardOutput = output
        try child.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        #expect(line == "locked\n")

        let error = #expect(throws: KubeIPError.self) { try FileLock.acquire(directory: directory.path) }
        #expect(error?.code == .lockHeld)
        // flock(1) writes no pid, so the message cannot name one.
        #expect(error?.message == "another kubeip holds \(path)")

        try input.fileHandleForWriting.close()
        child.waitUntilExit()
        #expect(try FileLock.acquire(directory: directory.path).isHeld)
    }
}
