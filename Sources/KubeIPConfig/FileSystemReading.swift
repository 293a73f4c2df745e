#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import KubeIPCore

/// Read-only file access for the settings loader, injectable so tests need no real files.
public protocol FileSystemReading: Sendable {
    /// The text of the file at `path`; nil when it does not exist. Throws when it exists but
    /// cannot be read.
    func readFile(atPath path: String) throws -> String?
    /// The names (not paths) in the directory at `path`; nil when it does not exist.
    func directoryEntries(atPath path: String) throws -> [String]?
}

extension FileSystemReading where Self == RealFileSystem {
    /// The machine's own file system.
    public static var real: RealFileSystem { RealFileSystem() }
}

/// The machine's file system, through POSIX calls.
public struct RealFileSystem: FileSystemReading {
    public init() {}

    public func readFile(atPath path: String) throws -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw RealFileSystem.failure("cannot open", path, code)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw RealFileSystem.failure("cannot read", path, code)
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw KubeIPError(.invalidSetting, "\(path) is not UTF-8 text; expected a YAML settings file")
        }
        return text
    }

    public func directoryEntries(atPath path: String) throws -> [String]? {
        guard let directory = opendir(path) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw RealFileSystem.failure("cannot list", path, code)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func failure(_ what: String, _ path: String, _ code: Int32) -> KubeIPError {
        KubeIPError(.io, "\(what) \(path): \(String(cString: strerror(code)))", setting: "config")
    }
}

/// Files held in memory, keyed by absolute path: for tests and for `kubeip check` dry runs.
public struct InMemoryFileSystem: FileSystemReading {
    /// Path → text.
    public var files: [String: String]

    public init(_ files: [String: String] = [:]) { self.files = files }

    public func readFile(atPath path: String) throws -> String? { files[path] }

    public func directoryEntries(atPath path: String) throws -> [String]? {
        let prefix = path.hasSuffix("/") ? path : path + "/"
        let names = files.keys.filter { $0.hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)) }
            .filter { !$0.isEmpty && !$0.contains("/") }
        return names.isEmpty ? nil : names
    }
}
