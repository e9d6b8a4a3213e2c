// Lists as Python writes them with `str(list)` (and pandas' `to_csv` of a list column): the
// papers' sample files keep histories this way, e.g. ['Heat (1995)', "Schindler's List (1993)"]
// or [12, 7, 301]. Strings are read as Python reads a literal: either quote, the escapes
// \\ \' \" \n \t \r \a \b \f \v \0, \xhh, \uhhhh, \Uhhhhhhhh; any other backslash stays as it is.

public struct PythonLiteralError: Error, Equatable, CustomStringConvertible {
    /// Character offset into the literal where reading stopped.
    public var offset: Int
    public var message: String
    public var description: String { "at character \(offset + 1): \(message)" }
}

public enum PythonLiteral {
    /// `['a', "b's"]` → ["a", "b's"]; `[]` → [].
    public static func strings(_ text: some StringProtocol) throws(PythonLiteralError) -> [String] {
        var reader = Reader(Array(text.unicodeScalars))
        return try reader.list { (r: inout Reader) throws(PythonLiteralError) in try r.string() }
    }

    /// `[12, -7, 301]` → [12, -7, 301] (whole numbers only).
    public static func integers(_ text: some StringProtocol) throws(PythonLiteralError) -> [Int] {
        var reader = Reader(Array(text.unicodeScalars))
        return try reader.list { (r: inout Reader) throws(PythonLiteralError) in try r.integer() }
    }

    struct Reader {
        let s: [Unicode.Scalar]
        var i = 0
        init(_ s: [Unicode.Scalar]) { self.s = s }

        func fail(_ message: String) -> PythonLiteralError { PythonLiteralError(offset: i, message: message) }
        mutating func skipSpaces() { while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 } }

        /// `[` element (`,` element)* `,`? `]`, nothing after it but spaces.
        mutating func list<T>(_ element: (inout Reader) throws(PythonLiteralError) -> T) throws(PythonLiteralError) -> [T] {
            skipSpaces()
            guard i < s.count, s[i] == "[" else { throw fail("expected a list starting with [") }
            i += 1
            var out: [T] = []
            skipSpaces()
            while i < s.count, s[i] != "]" {
                out.append(try element(&self))
                skipSpaces()
                guard i < s.count else { break }
                if s[i] == "," { i += 1; skipSpaces() } else if s[i] != "]" { throw fail("expected , or ] after an element") }
            }
            guard i < s.count else { throw fail("the list has no closing ]") }
            i += 1
            skipSpaces()
            guard i == s.count else { throw fail("unexpected text after the list") }
            return out
        }

        /// A whole number, also as numpy 2 writes its scalars in a list: `np.int64(12)`.
        mutating func integer() throws(PythonLiteralError) -> Int {
            let start = i
            var wrapped = false
            if i < s.count, s[i].properties.isAlphabetic {
                while i < s.count, s[i].properties.isAlphabetic || s[i] == "." || s[i] == "_" || ("0"..."9").contains(s[i]) { i += 1 }
                guard i < s.count, s[i] == "(" else { throw PythonLiteralError(offset: start, message: "expected a whole number") }
                i += 1
                wrapped = true
            }
            let negative = i < s.count && s[i] == "-"
            if negative { i += 1 }
            var value = 0, digits = 0
            while i < s.count, ("0"..."9").contains(s[i]) {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(Int(s[i].value - 48))
                guard !o1, !o2 else { throw PythonLiteralError(offset: start, message: "a number too large") }
                value = plus
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw PythonLiteralError(offset: start, message: "expected a whole number") }
            if wrapped {
                guard i < s.count, s[i] == ")" else { throw fail("expected ) after the number") }
                i += 1
            }
            return negative ? -value : value
        }

        mutating func string() throws(PythonLiteralError) -> String {
            guard i < s.count, s[i] == "'" || s[i] == "\"" else { throw fail("expected a string in quotes") }
            let quote = s[i]
            i += 1
            var out = String.UnicodeScalarView()
            while i < s.count {
                let c = s[i]
                i += 1
                if c == quote { return String(out) }
                guard c == "\\" else { out.append(c); continue }
                guard i < s.count else { break }
                let e = s[i]
                i += 1
                switch e {
                case "\\", "'", "\"": out.append(e)
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "0": out.append("\u{00}")
                case "x", "u", "U":
                    let width = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard i + width <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<i + width])), radix: 16),
                        let scalar = Unicode.Scalar(v)
                    else { throw fail("a \\\(e) escape without \(width) hex digits of a character") }
                    out.append(scalar)
                    i += width
                default:
                    out.append("\\")
                    out.append(e)
                }
            }
            throw fail("a string without its closing \(quote)")
        }
    }
}
