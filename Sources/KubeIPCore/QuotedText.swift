/// Small text routines that several adapters need the same way.
public enum QuotedText {
    /// Splits `text` on `separator` wherever it stands outside single or double quotes; the
    /// quotes stay in the parts. With `backslashEscapes`, a backslash inside quotes escapes the
    /// next character (so `\"` does not close a double-quoted run).
    /// Returns nil when a quote is left open.
    public static func split(_ text: String, on separator: Character, backslashEscapes: Bool = false) -> [String]? {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        for character in text {
            if let open = quote {
                if escaped {
                    escaped = false
                } else if backslashEscapes && character == "\\" {
                    escaped = true
                } else if character == open {
                    quote = nil
                }
                current.append(character)
            } else if character == "\"" || character == "'" {
                quote = character
                current.append(character)
            } else if character == separator {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if quote != nil { return nil }
        parts.append(current)
        return parts
    }

    /// `text` as a JSON string literal, with the escapes JSON requires.
    public static func jsonLiteral(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Decodes `%XX` escapes (invalid escapes stay as they are); with `plusIsSpace`, `+` is a
    /// space first, as in `application/x-www-form-urlencoded` and URL queries.
    public static func percentDecoded<S: StringProtocol>(_ text: S, plusIsSpace: Bool = false) -> String {
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count,
               let byte = UInt8(String(decoding: utf8[i + 1...i + 2], as: UTF8.self), radix: 16) {
                out.append(byte)
                i += 3
            } else {
                out.append(plusIsSpace && utf8[i] == UInt8(ascii: "+") ? UInt8(ascii: " ") : utf8[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace).
    public static func trimmingBlanks<S: StringProtocol>(_ text: S) -> String {
        var slice = Substring(text)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
