import KubeIPCore
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes log lines to stderr, as text or one JSON object per line.
///
/// Under systemd (`JOURNAL_STREAM` set) text lines carry a `<N>` syslog priority prefix
/// instead of a timestamp, so `journalctl -p warning -u kubeip` filters by level and times
/// are not printed twice.
public struct ConsoleLogHandler: LogHandler {
    /// Output format.
    public enum Format: Sendable { case text, json }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: Format
    private let journal: Bool
    private let sink: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level, format: Format, journal: Bool = false,
                sink: @escaping @Sendable (String) -> Void = ConsoleLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.journal = journal
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let message = "\(event.message)"
        switch format {
        case .json:
            var fields: [(String, String)] = [
                ("time", Self.timestamp(Date())), ("level", event.level.rawValue), ("logger", label), ("msg", message),
            ]
            for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
            sink("{" + fields.map { "\(Self.jsonString($0.0)):\(Self.jsonString($0.1))" }.joined(separator: ",") + "}\n")
        case .text:
            // One record per line: a multi-line cloud error must not split into several journal entries.
            let extras = merged.keys.sorted().map { "\($0)=\(Self.quoteIfNeeded(Self.oneLine("\(merged[$0]!)")))" }
            let body = ([Self.oneLine(message)] + extras).joined(separator: " ")
            if journal {
                sink("<\(Self.syslogPriority(event.level))>\(body)\n")
            } else {
                let level = event.level.rawValue
                sink("\(Self.timestamp(Date())) \(level)\(String(repeating: " ", count: max(1, 8 - level.count)))\(body)\n")
            }
        }
    }

    /// Writes to file descriptor 2 in one call, so concurrent lines do not interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Escapes line breaks so that a value stays on one line.
    static func oneLine(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\r" }) else { return text }
        return text.replacing("\r", with: "\\r").replacing("\n", with: "\\n")
    }

    static func quoteIfNeeded(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? jsonString(value) : value
    }

    /// A JSON string literal with the mandatory escapes.
    static func jsonString(_ text: String) -> String { QuotedText.jsonLiteral(text) }

    /// RFC 3339 UTC timestamp with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let f = UTCDateFields(date)
        let pad = UTCDateFields.pad
        return "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2)).\(pad(f.millisecond, 3))Z"
    }
}
