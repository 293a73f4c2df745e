#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KubeIPCore
import Synchronization

/// An exclusive, advisory lock on `<directory>/kubeip.lock` that keeps two kubeip daemons on one
/// host from fighting over addresses.
///
/// The lock is a `flock(2)` on an open file description: the kernel drops it when the process
/// dies, so a crash never leaves a stale lock behind. The file itself stays in place (removing it
/// would let two processes lock two different files); it holds the holder's pid as text, which
/// only serves error messages. A second ``acquire(directory:)`` fails even within the same process.
public final class FileLock: Sendable {
    /// The lock file's path.
    public let path: String
    private let descriptor: Mutex<Int32>

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    deinit { release() }

    /// Takes the lock without waiting.
    ///
    /// Creates `directory` (mode 0755) and the lock file (mode 0644) when missing.
    /// - Throws: ``KubeIPCore/KubeIPError`` `.lockHeld` ("another kubeip (pid N) holds <path>",
    ///   `resource` = the path) when another holder exists; `.io` when the directory or file cannot be used.
    public static func acquire(directory: String) throws -> FileLock {
        try POSIX.makeDirectory(directory, mode: 0o755)
        let path = directory.hasSuffix("/") ? directory + "kubeip.lock" : directory + "/kubeip.lock"
        let fd: Int32
        switch POSIX.openFile(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0o644) {
        case .success(let opened): fd = opened
        case .failure(let error):
            throw KubeIPError(.io, "cannot open lock file \(path): \(error)", resource: path)
        }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        if result != 0 {
            let code = errno
            defer { close(fd) }
            if code == EWOULDBLOCK || code == EAGAIN {
                let holder = Self.holderPID(fd).map { " (pid \($0))" } ?? ""
                throw KubeIPError(.lockHeld, "another kubeip\(holder) holds \(path)", resource: path)
            }
            throw KubeIPError(.io, "cannot lock \(path): \(POSIX.describe(code))", resource: path)
        }
        // Best effort: the pid only improves the message another instance prints.
        if ftruncate(fd, 0) == 0 {
            _ = POSIX.writeAll(fd, Array("\(getpid())\n".utf8))
        }
        return FileLock(path: path, descriptor: fd)
    }

    /// Whether this object still holds the lock.
    public var isHeld: Bool { descriptor.withLock { $0 >= 0 } }

    /// Releases the lock (closing the file); calling it again does nothing.
    public func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    private static func holderPID(_ fd: Int32) -> Int32? {
        guard case .success(let bytes) = POSIX.readAll(fd, limit: 32) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        return Int32(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
