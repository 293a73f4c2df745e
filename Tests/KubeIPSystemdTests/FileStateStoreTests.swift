import Foundation
import KubeIPCore
import KubeIPSystemd
import Testing

@Suite struct FileStateStoreTests {
    let records = [
        HeldAddressRecord(instanceID: "i-0123456789abcdef0", family: .ipv4, addressID: "eipalloc-0abc",
                          ip: "198.51.100.7", since: Date(timeIntervalSince1970: 1_795_795_200)),
        HeldAddressRecord(instanceID: "i-0123456789abcdef0", family: .ipv6, addressID: "projects/p/regions/r/addresses/a",
                          ip: "2001:db8::7", since: Date(timeIntervalSince1970: 1_795_795_261)),
    ]

    private func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test func missingFileLoadsEmpty() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        #expect(await FileStateStore(directory: directory.file("absent")).load().isEmpty)
    }

    @Test func roundTrip() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = FileStateStore(directory: directory.file("state/kubeip"))
        #expect(store.path == directory.file("state/kubeip/state.json"))
        try await store.save(records)
        #expect(await store.load() == records)
        // A second store (a restart) reads the same.
        #expect(await FileStateStore(directory: directory.file("state/kubeip")).load() == records)

        try await store.save([records[1]])
        #expect(await store.load() == [records[1]])
        try await store.save([])
        #expect(await store.load().isEmpty)
    }

    @Test func fileIsVersionedJSONWithISODates() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = FileStateStore(directory: directory.path)
        try await store.save([records[0]])
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["version"] as? Int == 1)
        let saved = try #require((object["records"] as? [[String: Any]])?.first)
        #expect(saved["since"] as? String == "2026-11-27T16:00:00Z")
        #expect(saved["ip"] as? String == "198.51.100.7")
        #expect(saved["family"] as? String == "ipv4")
    }

    @Test func saveIsAtomicAndPrivate() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = FileStateStore(directory: directory.path)
        // A leftover temporary file from a crash, with loose permissions.
        try "partial".write(toFile: store.path + ".tmp", atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: store.path + ".tmp")

        try await store.save(records)
        #expect(!FileManager.default.fileExists(atPath: store.path + ".tmp"))
        #expect(try mode(store.path) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state.json"])
    }

    @Test func corruptFileIsMovedAside() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = FileStateStore(directory: directory.path)
        try #"{"version": 1, "records": [{"instanceID": "i-1"#.write(toFile: store.path, atomically: false, encoding: .utf8)

        #expect(await store.load().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.path))
        #expect(try String(contentsOfFile: store.path + ".corrupt", encoding: .utf8).hasPrefix(#"{"version""#))

        try await store.save(records)
        #expect(await store.load() == records)
    }

    @Test(arguments: ["", "null", "[]", "not json", #"{"version": 1}"#, #"{"version": 0, "records": []}"#])
    func unreadableContentLoadsEmpty(content: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = FileStateStore(directory: directory.path)
        try content.write(toFile: store.path, atomically: false, encoding: .utf8)
        #expect(await store.load().isEmpty)
        #expect(FileManager.default.fileExists(atPath: store.path + ".corrupt"))
    }

    @Test func newerFormatIsLeftInPlace() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = FileStateStore(directory: directory.path)
        try #"{"version": 2, "holdings": {}}"#.write(toFile: store.path, atomically: false, encoding: .utf8)
        #expect(await store.load().isEmpty)
        #expect(FileManager.default.fileExists(atPath: store.path))
        #expect(!FileManager.default.fileExists(atPath: store.path + ".corrupt"))
    }

    @Test func unwritableDirectoryIsAnIOError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try "x".write(toFile: directory.file("file"), atomically: false, encoding: .utf8)
        let store = FileStateStore(directory: directory.file("file/state"))
        let error = await #expect(throws: KubeIPError.self) { try await store.save(records) }
        #expect(error?.code == .io)
        #expect(await store.load().isEmpty)
    }

    @Test func concurrentSavesLeaveOneWholeFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = FileStateStore(directory: directory.path)
        let records = records
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<16 { group.addTask { try await store.save(i.isMultiple(of: 2) ? records : [records[0]]) } }
            try await group.waitForAll()
        }
        let loaded = await store.load()
        #expect(loaded == records || loaded == [records[0]])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state.json"])
    }
}
