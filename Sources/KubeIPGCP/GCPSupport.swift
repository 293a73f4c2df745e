#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KubeIPCore
import KubeIPHTTP
import Logging

/// Reads a local file as text; nil when it does not exist or cannot be read.
public typealias GCPFileReader = @Sendable (_ path: String) -> String?

/// The default ``GCPFileReader``: the local file system.
public let gcpLocalFileReader: GCPFileReader = { path in
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self)
}
