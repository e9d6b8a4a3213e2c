// The prompt byte for byte as the design brief gives it, title cleaning, and timestamps.
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
        #expect(unknown.titles.prefix(Catalog.suggestedTitles).allSatisfy { $0.suggestions.count == 5 })
        #expect(unknown.titles.dropFirst(Catalog.suggestedTitles).allSatisfy { $0.suggestions.isEmpty })
        let head = "Casno (1995)" + String(repeating: " z", count: 200)
        #expect(catalog.closest(to: head, count: 3) == catalog.closest(to: String(head.prefix(Catalog.longestComparedKey)), count: 3))
    }
}
