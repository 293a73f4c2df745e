import Foundation
import Testing

/// A fresh directory under the system temporary directory; removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init(_ prefix: String = "kubeip-systemd") throws {
        // Short names: unix socket paths are limited to 107 bytes.
        path = "/tmp/\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

struct TimedOut: Error {}

/// Awaits `operation`, failing instead of hanging when it takes longer than `limit` (a guard, not a timing check).
func within<T: Sendable>(_ limit: Duration = .seconds(10),
                         _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut()
        }
        let first = try await group.next()!
        group.cancelAll()
        return first
    }
}

/// Runs `executable` with `arguments`; returns its exit status once it ends.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
