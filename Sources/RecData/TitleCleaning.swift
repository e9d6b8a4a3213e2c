// How a raw title becomes a catalog title: HTML character references unescaped (Amazon
// metadata is full of &amp; and &#39;), then trimmed, with every run of whitespace
// (tabs and newlines included) collapsed to one space. Nothing else is changed, so
// MovieLens titles keep their "Title (Year)" form.

public enum TitleCleaning {
    public static func clean(_ raw: String, unescapeHTML: Bool) -> String {
        let text = unescapeHTML ? unescapeHTMLEntities(raw) : raw
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value == 0x7F {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Replaces `&name;`, `&#NNN;` and `&#xHH;` by their characters; anything that is not a
    /// known, well-formed reference stays as written (as browsers do).
    public static func unescapeHTMLEntities(_ s: String) -> String {
        guard s.contains("&") else { return s }
        let scalars = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if scalars[i] == "&", let (scalar, length) = reference(scalars, at: i) {
                out.append(scalar)
                i += length
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }

    /// The character and length of the reference starting at `start` (an "&"), if any.
    private static func reference(_ s: [Unicode.Scalar], at start: Int) -> (Unicode.Scalar, Int)? {
        var end = start + 1
        while end < s.count, end - start <= 12, s[end] != ";" { end += 1 }
        guard end < s.count, s[end] == ";", end > start + 1 else { return nil }
        let body = String(String.UnicodeScalarView(s[(start + 1)..<end]))
        let length = end - start + 1
        if body.hasPrefix("#") {
            let digits = body.dropFirst()
            let value: UInt32?
            if digits.first == "x" || digits.first == "X" {
                value = UInt32(digits.dropFirst(), radix: 16)
            } else {
                value = UInt32(digits, radix: 10)
            }
            guard let v = value, v != 0, let scalar = Unicode.Scalar(v) else { return nil }
            return (scalar, length)
        }
        guard let scalar = htmlNamedEntities[body] else { return nil }
        return (scalar, length)
    }
}
