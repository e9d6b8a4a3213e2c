// Splitting text into pieces before BPE, as the regexes of each model family do. Hand-written
// matchers (Swift Regex is far slower) that follow the regex alternatives in order, including
// the `\s+(?!\S)` backtracking; checked against HF tokenizers' Split(Regex) on a few hundred
// strings (Tests/TokenizersTests). The original regexes:
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2:  llama3 with \p{N} instead of \p{N}{1,3}
//   smollm: every \p{N} character on its own (HF Digits(individual_digits)), then gpt2 on the rest

public enum PreTokenizerFamily: String, Sendable, CaseIterable {
    case gpt2, llama3, qwen2, smollm
}

/// Character classes of the regexes.
@usableFromInline
enum CharClass: UInt8 { case letter, number, space, other }

@inline(__always)
func charClass(_ s: Unicode.Scalar) -> CharClass {
    let v = s.value
    if v < 128 {
        if (v >= 65 && v <= 90) || (v >= 97 && v <= 122) { return .letter }
        if v >= 48 && v <= 57 { return .number }
        if v == 32 || (v >= 9 && v <= 13) { return .space }
        return .other
    }
    if s.properties.isWhitespace { return .space }
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
    case .decimalNumber, .letterNumber, .otherNumber: return .number
    default: return .other
    }
}

struct PreTokenizer: Sendable {
    let family: PreTokenizerFamily

    /// Appends the pieces of `s[range]` to `out` as index ranges.
    func split(_ s: [Unicode.Scalar], _ classes: [CharClass], into out: inout [Range<Int>]) {
        switch family {
        case .gpt2: splitGPT2(s, classes, 0..<s.count, &out)
        case .smollm:
            var start = 0
            for i in 0..<s.count where classes[i] == .number {
                if start < i { splitGPT2(s, classes, start..<i, &out) }
                out.append(i..<(i + 1))
                start = i + 1
            }
            if start < s.count { splitGPT2(s, classes, start..<s.count, &out) }
        case .llama3: splitLlama3(s, classes, maxDigits: 3, &out)
        case .qwen2: splitLlama3(s, classes, maxDigits: 1, &out)
        }
    }

    /// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
    private func contraction(_ s: [Unicode.Scalar], _ i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard s[i] == "'", i + 1 < end else { return 0 }
        func lower(_ c: Unicode.Scalar) -> Unicode.Scalar {
            caseInsensitive && c.value >= 65 && c.value <= 90 ? Unicode.Scalar(c.value + 32)! : c
        }
        let a = lower(s[i + 1])
        if a == "s" || a == "t" || a == "m" || a == "d" { return 2 }
        if i + 2 < end {
            let b = lower(s[i + 2])
            if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return 3 }
        }
        return 0
    }

    private func run(_ classes: [CharClass], from i: Int, _ end: Int, _ c: CharClass, max: Int = .max) -> Int {
        var j = i
        while j < end, classes[j] == c, j - i < max { j += 1 }
        return j
    }

    private func splitGPT2(_ s: [Unicode.Scalar], _ classes: [CharClass], _ range: Range<Int>, _ out: inout [Range<Int>]) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let c = classes[i]
            var j: Int
            let k = contraction(s, i, end, caseInsensitive: false)
            if k > 0 {
                j = i + k
            } else if c != .space {
                j = run(classes, from: i, end, c)
            } else if s[i] == " ", i + 1 < end, classes[i + 1] != .space {
                j = run(classes, from: i + 1, end, classes[i + 1])
            } else {
                j = whitespace(classes, i, end)
            }
            out.append(i..<j)
            i = j
        }
    }

    /// `\s+(?!\S)|\s+` at i (a space): the run, less its last character when a non-space follows and the run is longer than one.
    private func whitespace(_ classes: [CharClass], _ i: Int, _ end: Int) -> Int {
        let k = run(classes, from: i, end, .space)
        return k < end && k - i > 1 ? k - 1 : k
    }

    private func splitLlama3(_ s: [Unicode.Scalar], _ classes: [CharClass], maxDigits: Int, _ out: inout [Range<Int>]) {
        var i = 0
        let end = s.count
        func isNewline(_ x: Int) -> Bool { s[x] == "\r" || s[x] == "\n" }
        while i < end {
            let c = classes[i]
            var j: Int
            let k = contraction(s, i, end, caseInsensitive: true)
            if k > 0 {
                j = i + k
            } else if c == .letter {
                j = run(classes, from: i, end, .letter)
            } else if c != .number, !isNewline(i), i + 1 < end, classes[i + 1] == .letter {
                j = run(classes, from: i + 1, end, .letter)  // [^\r\n\p{L}\p{N}]?\p{L}+
            } else if c == .number {
                j = run(classes, from: i, end, .number, max: maxDigits)
            } else if c == .other || (s[i] == " " && i + 1 < end && classes[i + 1] == .other) {
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                j = run(classes, from: c == .other ? i : i + 1, end, .other)
                while j < end, isNewline(j) { j += 1 }
            } else {
                // c is a space. `\s*[\r\n]+`: through the last newline of the run, if it has one.
                let runEnd = run(classes, from: i, end, .space)
                if let lastNewline = (i..<runEnd).last(where: isNewline) {
                    j = lastNewline + 1
                } else {
                    j = whitespace(classes, i, end)
                }
            }
            out.append(i..<j)
            i = j
        }
    }
}
