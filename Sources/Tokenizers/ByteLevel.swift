// GPT-2's byte-level alphabet: every byte maps to a printable Unicode character, so any
// byte string becomes a string of vocabulary symbols (space is "Ġ", newline "Ċ").
// Same table as `bytes_to_unicode` in openai/gpt-2 encoder.py and HF tokenizers' byte_level.rs.

enum ByteLevel {
    /// byte → character.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// character → byte, for decoding.
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// The byte-level form of UTF-8 text (what vocabulary entries look like).
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = String.UnicodeScalarView()
        for b in bytes { out.append(byteToScalar[Int(b)]) }
        return String(out)
    }
}
