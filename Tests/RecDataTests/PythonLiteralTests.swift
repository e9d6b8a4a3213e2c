// Python list literals as the papers' sample files hold them. The first cases are exactly what
// Python 3.12 prints for `str(list)` of the values beside them (single quotes unless the text
// holds ' and no ", escapes for backslash, the quote, \n \t \r and other control characters,
// printable non-ASCII kept as it is); the rest are other escapes a Python literal may hold.
import Testing
@testable import RecData

@Suite("Python list literals")
struct PythonLiteralTests {
    @Test func stringsAsPythonWritesThem() throws {
        let cases: [(String, [String])] = [
            ("[]", []),
            ("['Heat (1995)']", ["Heat (1995)"]),
            (#"['Heat (1995)', "Schindler's List (1993)", 'Say "Hi"', 'both \' and "']"#,
             ["Heat (1995)", "Schindler's List (1993)", "Say \"Hi\"", "both ' and \""]),
            ("['a, b', 'c]d', '[e]']", ["a, b", "c]d", "[e]"]),
            ("['Amélie (2001)', '千と千尋の神隠し', '🎬']", ["Amélie (2001)", "千と千尋の神隠し", "🎬"]),
            (#"['back\\slash', 'line\nbreak', 'tab\there', '\x00\x7f', '\u200b', '\U0001f600']"#,
             ["back\\slash", "line\nbreak", "tab\there", "\u{0}\u{7F}", "\u{200B}", "😀"]),
            ("['unknown \\q escape']", ["unknown \\q escape"]),
            ("  [ 'spaced' ,'out' , ]  ", ["spaced", "out"]),
            ("['Tom &amp; Jerry']", ["Tom &amp; Jerry"]),
        ]
        for (text, expected) in cases {
            #expect(try PythonLiteral.strings(text) == expected, "\(text)")
        }
    }

    @Test func integersAsPythonAndNumpyWriteThem() throws {
        #expect(try PythonLiteral.integers("[12, 7, 301]") == [12, 7, 301])
        #expect(try PythonLiteral.integers("[-1,0]") == [-1, 0])
        #expect(try PythonLiteral.integers("[]") == [])
        #expect(try PythonLiteral.integers("[np.int64(12), np.int64(7)]") == [12, 7])
    }

    @Test func brokenListsNameWhere() {
        let cases: [(String, String)] = [
            ("'a', 'b'", "at character 1: expected a list starting with ["),
            ("['a', 'b'", "the list has no closing ]"),
            ("['a' 'b']", "at character 6: expected , or ] after an element"),
            ("['a]", "a string without its closing '"),
            ("['\\x4']", "a \\x escape without 2 hex digits"),
            ("['a'] x", "unexpected text after the list"),
            ("[a]", "expected a string in quotes"),
        ]
        for (text, message) in cases {
            #expect { try PythonLiteral.strings(text) } throws: { "\($0)".contains(message) }
        }
        #expect { try PythonLiteral.integers("[1.5]") } throws: { "\($0)".contains("expected , or ]") }
        #expect { try PythonLiteral.integers("[99999999999999999999]") } throws: { "\($0)".contains("too large") }
        #expect { try PythonLiteral.integers("['1']") } throws: { "\($0)".contains("expected a whole number") }
    }
}
