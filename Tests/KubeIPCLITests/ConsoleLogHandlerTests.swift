@testable import KubeIPCLI
import Logging
import Synchronization
import Testing
import Foundation

@Suite struct ConsoleLogHandlerTests {
    final class Sink: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    private func logger(_ format: ConsoleLogHandler.Format, journal: Bool = false, sink: Sink) -> Logger {
        Logger(label: "kubeip.test") { label in
            ConsoleLogHandler(label: label, level: .info, format: format, journal: journal,
                              sink: { line in sink.lines.withLock { $0.append(line) } })
        }
    }

    @Test func jsonLinesAreValidJSONWithMetadata() throws {
        let sink = Sink()
        logger(.json, sink: sink).notice("holding \"203.0.113.7\"\n", metadata: ["id": "eipalloc-1"])
        let line = try #require(sink.all.first)
        #expect(line.hasSuffix("}\n"))
        let object = try JSONDecoder().decode([String: String].self, from: Data(line.utf8)) as [String: String]?
        #expect(object?["msg"] == "holding \"203.0.113.7\"\n")
        #expect(object?["level"] == "notice")
        #expect(object?["id"] == "eipalloc-1")
        #expect(object?["time"]?.hasSuffix("Z") == true)
    }

    @Test func levelsBelowTheThresholdAreDropped() {
        let sink = Sink()
        logger(.text, sink: sink).debug("hidden")
        #expect(sink.all.isEmpty)
    }

    @Test func journalLinesCarrySyslogPriority() {
        let sink = Sink()
        logger(.text, journal: true, sink: sink).warning("careful", metadata: ["k": "a b"])
        #expect(sink.all == ["<4>careful k=\"a b\"\n"])
    }

    @Test func timestampsAreRFC3339() {
        #expect(ConsoleLogHandler.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(ConsoleLogHandler.timestamp(Date(timeIntervalSince1970: 1_795_796_160.5)) == "2026-11-27T16:16:00.500Z")
        #expect(ConsoleLogHandler.timestamp(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
    }
}
