import Foundation
import KubeIPCore
import Testing
@testable import KubeIPConfig

@Suite struct FileSystemReadingTests {
    /// A fresh directory under the system temporary directory, removed afterwards.
    private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("kubeip-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test func realFileSystemReadsFilesAndListsDirectories() throws {
        try withTemporaryDirectory { root in
            let fs = RealFileSystem()
            try "mode: host\n".write(toFile: root + "/kubeip.yaml", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: root + "/conf.d", withIntermediateDirectories: true)
            try "json: true\n".write(toFile: root + "/conf.d/10.yaml", atomically: true, encoding: .utf8)
            #expect(try fs.readFile(atPath: root + "/kubeip.yaml") == "mode: host\n")
            #expect(try fs.readFile(atPath: root + "/missing.yaml") == nil)
            #expect(try fs.readFile(atPath: root + "/kubeip.yaml/under-a-file") == nil)
            #expect(try fs.directoryEntries(atPath: root + "/conf.d") == ["10.yaml"])
            #expect(try fs.directoryEntries(atPath: root + "/nope") == nil)
        }
    }

    @Test func realFileSystemReadsLargeFiles() throws {
        try withTemporaryDirectory { root in
            let text = String(repeating: "# padding line for a file larger than one read chunk\n", count: 1000)
            try text.write(toFile: root + "/big.yaml", atomically: true, encoding: .utf8)
            #expect(try RealFileSystem().readFile(atPath: root + "/big.yaml") == text)
        }
    }

    @Test func readingADirectoryAsAFileIsAnIOError() throws {
        try withTemporaryDirectory { root in
            let error = try #require(throws: KubeIPError.self) { try RealFileSystem().readFile(atPath: root) }
            #expect(error.code == .io)
            #expect(error.message.contains(root))
        }
    }

    @Test func nonUTF8FilesAreRefused() throws {
        try withTemporaryDirectory { root in
            try Data([0x6d, 0x6f, 0x64, 0x65, 0x3a, 0x20, 0xff, 0xfe]).write(to: URL(fileURLWithPath: root + "/bad.yaml"))
            let error = try #require(throws: KubeIPError.self) { try RealFileSystem().readFile(atPath: root + "/bad.yaml") }
            #expect(error.message.contains("not UTF-8"))
        }
    }

    @Test func loaderReadsRealFiles() throws {
        try withTemporaryDirectory { root in
            try "retry-interval: 45s\nlog-level: debug\n".write(toFile: root + "/kubeip.yaml", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: root + "/conf.d", withIntermediateDirectories: true)
            try "log-level: error\n".write(toFile: root + "/conf.d/20-local.yaml", atomically: true, encoding: .utf8)
            let settings = try SettingsLoader.load(flags: [:], environment: ["KUBEIP_CONFIG": root + "/kubeip.yaml"])
            #expect(settings.retryInterval == .seconds(45))
            #expect(settings.logLevel == .error)
            #expect(settings.filesRead == [root + "/kubeip.yaml", root + "/conf.d/20-local.yaml"])
        }
    }

    @Test func inMemoryFileSystemListsDirectChildrenOnly() throws {
        let fs = InMemoryFileSystem(["/a/b.yaml": "", "/a/c/d.yaml": "", "/ab.yaml": ""])
        #expect(try fs.directoryEntries(atPath: "/a")?.sorted() == ["b.yaml"])
        #expect(try fs.directoryEntries(atPath: "/a/")?.sorted() == ["b.yaml"])
        #expect(try fs.directoryEntries(atPath: "/x") == nil)
        #expect(try fs.readFile(atPath: "/a/b.yaml") == "")
        #expect(try fs.readFile(atPath: "/a") == nil)
    }
}
