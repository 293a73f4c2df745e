import KubeIPCore

/// A parsed XML element: enough of XML for the EC2 and STS Query APIs.
///
/// Names lose their namespace prefix (`ec2:item` → `item`); namespaces themselves are ignored.
/// Text is the concatenation of the element's own character data (entities and CDATA
/// resolved), not its children's.
public struct AWSXMLElement: Sendable, Equatable {
    /// The local name (prefix removed).
    public var name: String
    /// Attributes by local name; namespace declarations are dropped.
    public var attributes: [String: String]
    /// Child elements in document order.
    public var children: [AWSXMLElement]
    /// The element's own character data, decoded (not trimmed).
    public var text: String

    public init(name: String, attributes: [String: String] = [:], children: [AWSXMLElement] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child element called `name`.
    public func child(_ name: String) -> AWSXMLElement? { children.first { $0.name == name } }

    /// Every child element called `name`.
    public func children(_ name: String) -> [AWSXMLElement] { children.filter { $0.name == name } }

    /// The trimmed text of the first child called `name`.
    public func value(_ name: String) -> String? { child(name)?.text.trimmedWhitespace }

    /// Follows a path of child names: `element.path("Errors", "Error")`.
    public func path(_ names: String...) -> AWSXMLElement? {
        var current: AWSXMLElement? = self
        for name in names { current = current?.child(name) }
        return current
    }

    /// The first element called `name` in this subtree (depth first, self included).
    public func first(_ name: String) -> AWSXMLElement? {
        if self.name == name { return self }
        for child in children {
            if let found = child.first(name) { return found }
        }
        return nil
    }
}

/// Why a document could not be parsed (never includes the document itself).
public struct AWSXMLParseError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var offset: Int
    public var description: String { "malformed XML at byte \(offset): \(reason)" }
}

/// A small, strict, non-validating XML parser.
public enum AWSXML {
    /// Parses `text` and returns its root element.
    public static func parse(_ text: String) throws -> AWSXMLElement {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }

    /// Parses UTF-8 bytes.
    public static func parse(_ bytes: [UInt8]) throws -> AWSXMLElement {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            // Skip a UTF-8 byte order mark.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
                self.bytes = Array(bytes.dropFirst(3))
            } else {
                self.bytes = bytes
            }
        }

        func fail(_ reason: String) -> AWSXMLParseError { AWSXMLParseError(reason: reason, offset: index) }

        func starts(with literal: String) -> Bool {
            let lit = Array(literal.utf8)
            return index + lit.count <= bytes.count && Array(bytes[index..<index + lit.count]) == lit
        }

        mutating func skip(past literal: String) throws {
            let lit = Array(literal.utf8)
            while index + lit.count <= bytes.count {
                if Array(bytes[index..<index + lit.count]) == lit {
                    index += lit.count
                    return
                }
                index += 1
            }
            throw fail("unterminated construct, expected '\(literal)'")
        }

        mutating func skipSpace() {
            while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        }

        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

        /// Skips declarations, processing instructions, comments and a DOCTYPE.
        mutating func skipMisc() throws {
            while true {
                skipSpace()
                if starts(with: "<?") {
                    try skip(past: "?>")
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<!DOCTYPE") || starts(with: "<!doctype") {
                    try skipDoctype()
                } else {
                    return
                }
            }
        }

        mutating func skipDoctype() throws {
            var depth = 0
            while index < bytes.count {
                let b = bytes[index]
                index += 1
                if b == UInt8(ascii: "[") { depth += 1 }
                if b == UInt8(ascii: "]") { depth -= 1 }
                if b == UInt8(ascii: ">") && depth <= 0 { return }
            }
            throw fail("unterminated DOCTYPE")
        }

        mutating func document() throws -> AWSXMLElement {
            try skipMisc()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else { throw fail("expected a root element") }
            let root = try element()
            try skipMisc()
            guard index == bytes.count else { throw fail("content after the root element") }
            return root
        }

        mutating func name() throws -> String {
            let start = index
            while index < bytes.count {
                let b = bytes[index]
                if isSpace(b) || b == UInt8(ascii: ">") || b == UInt8(ascii: "/") || b == UInt8(ascii: "=") { break }
                index += 1
            }
            guard index > start else { throw fail("expected a name") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        static func localName(_ qualified: String) -> String {
            guard let colon = qualified.lastIndex(of: ":") else { return qualified }
            return String(qualified[qualified.index(after: colon)...])
        }

        /// Parses an element starting at `<`.
        mutating func element() throws -> AWSXMLElement {
            index += 1 // '<'
            let qualified = try name()
            var result = AWSXMLElement(name: Self.localName(qualified))
            // Attributes.
            while true {
                skipSpace()
                guard index < bytes.count else { throw fail("unterminated start tag <\(qualified)>") }
                if bytes[index] == UInt8(ascii: "/") {
                    guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ">") else { throw fail("expected '/>'") }
                    index += 2
                    return result
                }
                if bytes[index] == UInt8(ascii: ">") {
                    index += 1
                    break
                }
                let attribute = try name()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail("expected '=' after attribute \(attribute)") }
                index += 1
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                    throw fail("expected a quoted attribute value")
                }
                let quote = bytes[index]
                index += 1
                let start = index
                while index < bytes.count, bytes[index] != quote { index += 1 }
                guard index < bytes.count else { throw fail("unterminated attribute value") }
                let raw = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                if !attribute.hasPrefix("xmlns") {
                    result.attributes[Self.localName(attribute)] = try decodeEntities(raw)
                }
            }
            // Content.
            var text: [UInt8] = []
            while true {
                guard index < bytes.count else { throw fail("unterminated element <\(qualified)>") }
                if bytes[index] != UInt8(ascii: "<") {
                    let start = index
                    while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
                    let raw = String(decoding: bytes[start..<index], as: UTF8.self)
                    text.append(contentsOf: Array(try decodeEntities(raw).utf8))
                } else if starts(with: "</") {
                    index += 2
                    let closing = try name()
                    skipSpace()
                    guard closing == qualified else { throw fail("</\(closing)> closes <\(qualified)>") }
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw fail("expected '>'") }
                    index += 1
                    result.text = String(decoding: text, as: UTF8.self)
                    return result
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<![CDATA[") {
                    index += 9
                    let start = index
                    try skip(past: "]]>")
                    text.append(contentsOf: bytes[start..<index - 3])
                } else if starts(with: "<?") {
                    try skip(past: "?>")
                } else {
                    result.children.append(try element())
                }
            }
        }

        func decodeEntities(_ raw: String) throws -> String {
            guard raw.contains("&") else { return raw }
            var out = ""
            var rest = Substring(raw)
            while let amp = rest.firstIndex(of: "&") {
                out += rest[..<amp]
                guard let semi = rest[amp...].firstIndex(of: ";") else { throw fail("unterminated entity") }
                let entity = rest[rest.index(after: amp)..<semi]
                switch entity {
                case "amp": out += "&"
                case "lt": out += "<"
                case "gt": out += ">"
                case "quot": out += "\""
                case "apos": out += "'"
                default:
                    var scalar: UInt32?
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                        scalar = UInt32(entity.dropFirst(2), radix: 16)
                    } else if entity.hasPrefix("#") {
                        scalar = UInt32(entity.dropFirst(), radix: 10)
                    }
                    guard let value = scalar, let character = Unicode.Scalar(value) else {
                        throw fail("unknown entity '&\(entity);'")
                    }
                    out.unicodeScalars.append(character)
                }
                rest = rest[rest.index(after: semi)...]
            }
            out += rest
            return out
        }
    }
}
