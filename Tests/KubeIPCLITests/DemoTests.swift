@testable import KubeIPCLI
import Synchronization
import Testing

@Suite struct DemoTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func demoTellsTheWholeStoryAndEndsConsistent() async throws {
        let output = Lines()
        let final = try await Demo(retryInterval: .milliseconds(50), write: { output.append($0) }).run()
        // Four addresses, six instances: four holders, each with a distinct address.
        #expect(final.count == 4)
        #expect(Set(final.values).count == 4)
        let text = output.all.joined(separator: "\n")
        #expect(text.contains("holding 198.51.100."))
        // The two losers wait: either nothing was free at their look, or what was went to others first.
        #expect(text.contains("waiting: no free ipv4 address in pool of 4")
                || text.contains("of the pool of 4 went to other instances first"))
        #expect(text.contains("attach calls during the restart: 0"))
        #expect(text.contains("released 198.51.100."))
        #expect(text.contains("lost 198.51.100."))
        #expect(!text.contains("203.0.113.50  held"))
    }
}

@Suite struct GCPDemoTests {
    @Test func everyVMKeepsAnExternalIPv4AndNoStaticIsShared() async throws {
        let output = DemoTests.Lines()
        let result = try await Demo(retryInterval: .milliseconds(50), write: { output.append($0) }).runGCP()
        for vm in ["vm-a", "vm-b", "vm-c", "vm-d"] {
            #expect(result[vm]?.count == 1, "\(vm) must have exactly one external IPv4")
        }
        let statics = ["vm-a", "vm-b", "vm-c", "vm-d"].flatMap { result[$0] ?? [] }.filter { $0.hasPrefix("198.51.100.") }
        #expect(Set(statics).count == statics.count)
        #expect(statics.count == 3)
        #expect(result["vm-dual"]?.count == 2)
        #expect(result["vm-dual"]?.contains("2001:db8:1:2::") == true)
        let text = output.all.joined(separator: "\n")
        #expect(text.contains("was taken by another instance"))
        #expect(text.contains("ephemeral, put back"))
    }
}
