// Text from a file or a request, made safe to put in a message: quoted, with control characters
// escaped and the length cut. A name read from a damaged file can be megabytes long and hold
// NULs; a message should still be one readable line.

/// `text` in single quotes, control characters, backslashes and quotes escaped (`\n`, `\u{0}`),
/// cut after `limit` characters with a count of the rest.
public func quoted(_ text: some StringProtocol, limit: Int = 80) -> String {
    var out = "'", shown = 0, total = 0
    for scalar in text.unicodeScalars {
        total += 1
        guard shown < limit else { continue }
        shown += 1
        switch scalar {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\\": out += "\\\\"
        case "'": out += "\\'"
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.properties.generalCategory == .format:
            out += "\\u{\(String(scalar.value, radix: 16))}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    out += "'"
    if total > shown { out += " (and \(total - shown) more characters)" }
    return out
}
