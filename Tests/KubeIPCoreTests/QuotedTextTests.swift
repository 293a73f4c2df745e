import KubeIPCore
import Testing

@Suite struct QuotedTextTests {
    @Test func splitsOutsideQuotesOnly() {
        #expect(QuotedText.split("a;'b;c';\"d;e\"", on: ";") == ["a", "'b;c'", "\"d;e\""])
        #expect(QuotedText.split("", on: ";") == [""])
        #expect(QuotedText.split("a,'b", on: ",") == nil)
    }

    @Test func backslashEscapesAreOptIn() {
        #expect(QuotedText.split(#"x="a\";b";y"#, on: ";", backslashEscapes: true) == [#"x="a\";b""#, "y"])
        #expect(QuotedText.split(#"x="a\";b";y"#, on: ";") == nil)
    }

    @Test func jsonLiteralsEscapeWhatJSONRequires() {
        #expect(QuotedText.jsonLiteral("a\"b\\c\nd\u{1}é") == #""a\"b\\c\nd\u0001é""#)
    }
}
