#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KubeIPCore

/// Small POSIX helpers shared by the lock and the state store. Errors name the path, never its content.
enum POSIX {
    /// The text of `errno` code `code`.
    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Creates `path` and its missing parents with `mode` (subject to the umask); an existing directory is fine.
    static func makeDirectory(_ path: String, mode: mode_t) throws(KubeIPError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            partial += "/" + component
            if mkdir(partial, mode) != 0 {
                let code = errno
                var info = stat()
                guard code == EEXIST, stat(partial, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                    throw KubeIPError(.io, "cannot create directory \(partial): \(describe(code))", resource: partial)
                }
            }
        }
    }

    /// Opens `path`, retrying on EINTR; returns the descriptor or the errno.
    static func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Result<Int32, Errno> {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return .success(fd) }
            if errno != EINTR { return .failure(Errno(errno)) }
        }
    }

    /// Reads `fd` from offset 0 to its end, up to `limit` bytes.
    static func readAll(_ fd: Int32, limit: Int = 1 << 20) -> Result<[UInt8], Errno> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Errno(errno))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return .success(bytes)
    }

    /// Writes all of `bytes` to `fd` at its current offset, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Result<Void, Errno> {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Errno(errno))
            }
            written += count
        }
        return .success(())
    }

    /// An errno value as an Error.
    struct Errno: Error, CustomStringConvertible {
        var code: Int32
        init(_ code: Int32) { self.code = code }
        var description: String { POSIX.describe(code) }
    }
}
