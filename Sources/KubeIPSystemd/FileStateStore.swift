#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KubeIPCore
import Logging

/// A ``KubeIPCore/StateStore`` keeping the held-address records in `<directory>/state.json`.
///
/// Format: `{"version": 1, "records": [ … ]}`, dates in ISO 8601.
///
/// Saving is atomic and durable: the JSON goes to `state.json.tmp` (mode 0600), is fsynced, renamed
/// over `state.json`, and the directory is fsynced, so a crash leaves either the old or the new file.
///
/// Loading never throws: a missing file gives `[]`; an unreadable file gives `[]` and is left alone;
/// a file that is not valid state JSON gives `[]` and is renamed to `state.json.corrupt` (replacing
/// any earlier one) so it can be inspected and the next save starts clean. A file written by a newer
/// format version gives `[]` and is left in place. Each case is logged at `warning`.
///
/// The directory is created (mode 0755) on first save when missing.
public actor FileStateStore: StateStore {
    /// The format version this store writes.
    public static let formatVersion = 1

    /// The state directory.
    public nonisolated let directory: String
    /// `<directory>/state.json`.
    public nonisolated let path: String
    private let logger: Logger?

    /// A store in `directory` (e.g. `$STATE_DIRECTORY`, default `/var/lib/kubeip`).
    /// - Parameter logger: where load problems are reported; nil for silence.
    public init(directory: String, logger: Logger? = nil) {
        self.directory = directory
        self.path = directory.hasSuffix("/") ? directory + "state.json" : directory + "/state.json"
        self.logger = logger
    }

    private struct File: Codable {
        var version: Int
        var records: [HeldAddressRecord]
    }

    private struct VersionOnly: Decodable {
        var version: Int
    }

    /// The saved records; `[]` when there are none or they cannot be read (see the type's notes).
    public func load() -> [HeldAddressRecord] {
        let bytes: [UInt8]
        switch POSIX.openFile(path, O_RDONLY) {
        case .failure(let error) where error.code == ENOENT:
            return []
        case .failure(let error):
            logger?.warning("cannot read the state file; starting without it", metadata: ["path": "\(path)", "error": "\(error)"])
            return []
        case .success(let fd):
            defer { close(fd) }
            switch POSIX.readAll(fd) {
            case .success(let read): bytes = read
            case .failure(let error):
                logger?.warning("cannot read the state file; starting without it", metadata: ["path": "\(path)", "error": "\(error)"])
                return []
            }
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        if let file = try? decoder.decode(File.self, from: Data(bytes)), file.version == Self.formatVersion {
            return file.records
        }
        if let version = try? decoder.decode(VersionOnly.self, from: Data(bytes)).version, version > Self.formatVersion {
            logger?.warning("the state file has a newer format; starting without it",
                            metadata: ["path": "\(path)", "version": "\(version)"])
            return []
        }
        let corrupt = path + ".corrupt"
        if rename(path, corrupt) == 0 {
            logger?.warning("the state file is corrupt; moved it aside and starting without it",
                            metadata: ["path": "\(path)", "moved-to": "\(corrupt)"])
        } else {
            logger?.warning("the state file is corrupt and cannot be moved aside; starting without it",
                            metadata: ["path": "\(path)", "error": "\(POSIX.describe(errno))"])
        }
        return []
    }

    /// Replaces the saved records atomically.
    /// - Throws: ``KubeIPCore/KubeIPError`` `.io` naming the path when the directory or file cannot be written.
    public func save(_ records: [HeldAddressRecord]) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(File(version: Self.formatVersion, records: records))
        } catch {
            throw KubeIPError(.io, "cannot encode the state for \(path): \(error)", resource: path)
        }
        try POSIX.makeDirectory(directory, mode: 0o755)

        let temporary = path + ".tmp"
        func failure(_ step: String, _ code: Int32) -> KubeIPError {
            KubeIPError(.io, "cannot \(step) \(temporary): \(POSIX.describe(code))", resource: path)
        }
        let fd: Int32
        switch POSIX.openFile(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600) {
        case .success(let opened): fd = opened
        case .failure(let error): throw failure("create", error.code)
        }
        var closed = false
        defer { if !closed { close(fd) } }
        do {
            // An older temporary file may have other permissions: O_CREAT does not change them.
            guard fchmod(fd, 0o600) == 0 else { throw failure("set permissions on", errno) }
            if case .failure(let error) = POSIX.writeAll(fd, Array(data) + [0x0a]) { throw failure("write", error.code) }
            guard fsync(fd) == 0 else { throw failure("sync", errno) }
            closed = true
            guard close(fd) == 0 else { throw failure("close", errno) }
            guard rename(temporary, path) == 0 else {
                throw KubeIPError(.io, "cannot replace \(path): \(POSIX.describe(errno))", resource: path)
            }
        } catch {
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable.
        if case .success(let directoryFD) = POSIX.openFile(directory, O_RDONLY | O_DIRECTORY) {
            fsync(directoryFD)
            close(directoryFD)
        }
    }
}
