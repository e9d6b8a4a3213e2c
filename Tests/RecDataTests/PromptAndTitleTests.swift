// The prompt byte for byte as the design brief gives it, title cleaning, and timestamps.
import Foundation
import Support
import Testing
@testable import RecData

@Suite("Prompt, titles, timestamps")
struct PromptAndTitleTests {
    @Test func promptIsByteExact() {
        let prompt = PromptTemplate(vocabulary: .movies).prompt(history: ["T1", "T2", "T3"])
        let expected = """
            Below is an instruction that describes a task, paired with an input that provides further context. \
            Write a response that appropriately completes the request.

            ### Instruction:
            Given a list of movies the user has watched before, please recommend a new movie that the user likes to the user.

            ### Input:
            The user has watched the following movies before: "T1", "T2", "T3"

            ### Response:

            """
        #expect(prompt == expected)
        #expect(prompt.hasSuffix("### Response:\n") && !prompt.hasSuffix("\n\n"), "ends with exactly one newline")
        #expect(Array(prompt.utf8).count == 384, "counted independently with Python")
    }

    @Test func responseIsTheQuotedTitle() {
        #expect(PromptTemplate(vocabulary: .movies).response(title: "Heat (1995)") == "\"Heat (1995)\"")
    }

    @Test func vocabularyIsConfigurable() {
        let p = PromptTemplate(vocabulary: PromptVocabulary(noun: "video game", verb: "played")).prompt(history: ["A"])
        #expect(p.contains("Given a list of video games the user has played before, please recommend a new video game that the user likes to the user.\n"))
        #expect(p.contains("The user has played the following video games before: \"A\"\n"))
    }

    @Test(arguments: [
        ("  Heat\t (1995) ", false, "Heat (1995)"),
        ("Line\nbreak\r\nhere", false, "Line break here"),
        ("Tom &amp; Jerry", true, "Tom & Jerry"),
        ("Tom &amp; Jerry", false, "Tom &amp; Jerry"),
        ("Mis&eacute;rables &#39;95&#x21;", true, "Misérables '95!"),
        ("&quot;Quoted&quot; &apos;x&apos;", true, "\"Quoted\" 'x'"),
        ("AT&T &unknown; &#0; & done", true, "AT&T &unknown; &#0; & done"),
        ("&nbsp;padded&nbsp;", true, "padded"),
        ("   ", false, ""),
    ])
    func titleCleaning(_ raw: String, _ html: Bool, _ expected: String) {
        #expect(TitleCleaning.clean(raw, unescapeHTML: html) == expected)
    }

    @Test(arguments: [
        ("978300760", 978_300_760.0),
        ("881250949.5", 881_250_949.5),
        ("1970-01-02", 86_400.0),
        ("2000-03-01T12:30:15Z", 951_913_815.0),
        ("2000-03-01 12:30", 951_913_800.0),
        ("2000-03-01T12:30:15+01:00", 951_910_215.0),
        ("2000-02-29", 951_782_400.0),
    ])
    func timestampsParse(_ text: String, _ seconds: Double) {
        #expect(parseTimestamp(Substring(text)) == seconds)
    }

    @Test(arguments: ["", "abc", "2001-02-29", "2000-13-01", "12:30", "1e400", "nan", "2000-01-01T25:00"])
    func badTimestampsDoNotParse(_ text: String) {
        #expect(parseTimestamp(Substring(text)) == nil)
    }
}

@Suite("Catalog search")
struct CatalogSearchTests {
    let catalog = Catalog(titles: ["Toy Story (1995)", "Toy Story 2 (1999)", "Heat (1995)", "Jumanji (1995)", "Casino (1995)"],
                          sourceIDs: [["1"], ["2"], ["3"], ["4"], ["5"]])

    @Test func exactThenCaseInsensitiveTitles() {
        #expect(catalog.item(titled: "Heat (1995)") == 2)
        #expect(catalog.item(titled: " heat (1995) ") == 2)
        #expect(catalog.item(titled: "Heat") == nil)
    }

    @Test func closestTitlesBySubstringThenEditDistance() {
        #expect(catalog.closest(to: "toy story", count: 2) == [0, 1])  // both contain it; shorter first
        #expect(catalog.closest(to: "Casno (1995)", count: 1) == [4])  // one deletion away
        #expect(catalog.closest(to: "heat", count: 3).first == 2)
        #expect(editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(catalog.closest(to: "  ", count: 3).isEmpty)
    }

    /// A request full of long unknown titles has a bounded cost: only the first few get
    /// suggestions, and only the first characters of each are compared.
    @Test func suggestionsAreBounded() {
        let long = String(repeating: "x", count: 600)
        guard case .failure(let unknown) = catalog.items(titled: (0..<100).map { "\(long)\($0)" }) else {
            Issue.record("unknown titles were accepted")
            return
        }
        #expect(unknown.titles.count == 100)
        #expect(unknown.titles.prefix(TitleIndex.suggestedTitles).allSatisfy { $0.suggestions.count == 5 })
        #expect(unknown.titles.dropFirst(TitleIndex.suggestedTitles).allSatisfy { $0.suggestions.isEmpty })
        let head = "Casno (1995)" + String(repeating: " z", count: 200)
        #expect(catalog.closest(to: head, count: 3) == catalog.closest(to: String(head.prefix(TitleIndex.longestComparedKey)), count: 3))
    }

    /// The index's suggestions equal a brute-force ranking over every title (substring, then edit
    /// distance) for typed titles with one or two typos, on the real ML-100K catalog.
    @Test(.enabled(if: Assets.ml100k.isPresent, Comment(rawValue: "needs the embedded datasets; run scripts/fetch-assets.sh")))
    func indexMatchesBruteForceOnRealTitles() throws {
        let log = try DataSource.resolve(dataset: "ml-100k", items: nil, format: .auto).read()
        let titles = try DatasetBuilder.build(log, options: BuildOptions()).catalog.titles
        let index = TitleIndex(titles: titles)
        func bruteForce(_ text: String, count: Int) -> [Int] {
            let key = Array(text.trimmingCharacters(in: .whitespaces).lowercased().unicodeScalars)
            let lowered = titles.map { $0.lowercased() }
            let keyText = String(String.UnicodeScalarView(key))
            let containing = lowered.indices.filter { lowered[$0].contains(keyText) }.sorted { (lowered[$0].count, $0) < (lowered[$1].count, $1) }
            let rest = lowered.indices.filter { !lowered[$0].contains(keyText) }
                .map { (item: $0, distance: editDistance(key, Array(lowered[$0].unicodeScalars))) }
                .sorted { ($0.distance, $0.item) < ($1.distance, $1.item) }
            return Array((containing + rest.map(\.item)).prefix(count))
        }
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<60 {
            var typed = Array(titles[Int.random(in: 0..<titles.count, using: &generator)].unicodeScalars)
            for _ in 0..<Int.random(in: 1...2, using: &generator) where typed.count > 1 {
                let at = Int.random(in: 0..<typed.count, using: &generator)
                if Bool.random(using: &generator) { typed.remove(at: at) } else { typed[at] = "q" }
            }
            let text = String(String.UnicodeScalarView(typed))
            #expect(index.closest(to: text, count: 1) == bruteForce(text, count: 1), "\(text)")
        }
        for text in ["star wars", "godfather", "the", "ab", "x"] {
            #expect(index.closest(to: text, count: 5) == bruteForce(text, count: 5), "\(text)")
        }
        #expect(index.item(titled: titles[10]) == 10)
        #expect(index.item(titled: " " + titles[10].uppercased()) == 10)
    }
}
