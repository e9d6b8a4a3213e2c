// The pieces under a study's files: the JSON reader with line numbers, the nested sample draw,
// the run log that a resumed run wrote twice, the per-window rankings and their partial files.
import Foundation
import Support
import Testing
@testable import Study

@Suite struct StudyFileTests {
    @Test func jsonReaderKeepsValuesAndLines() throws {
        let text = "{\n \"a\": [1, -2.5e1, true, null],\n \"b\": {\"c\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\"}\n}"
        let root = try JSONDocument.parse(text)
        guard case .object(let members) = root.value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["a", "b"] && members.map(\.line) == [2, 3])
        #expect(members[0].node.value == .array([.init(value: .number(1), line: 2), .init(value: .number(-25), line: 2),
                                                  .init(value: .bool(true), line: 2), .init(value: .null, line: 2)]))
        guard case .object(let inner) = members[1].node.value else { Issue.record("not an object"); return }
        #expect(inner[0].node.value == .string("xé😀\n\""))
        // What Foundation's parser accepts, this one reads the same way.
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect((foundation["b"] as! [String: String])["c"] == "xé😀\n\"")
        for (bad, line) in [("{\"a\": 01}", 1), ("[1,\n2,]", 2), ("{\"a\": \"x\ny\"}", 1), ("\n\n{\"a\" 1}", 3), ("[1] 2", 1), ("{\"a\": tru}", 1)] {
            #expect(throws: JSONSyntaxError.self) { try JSONDocument.parse(bad) }
            do { _ = try JSONDocument.parse(bad) } catch let e as JSONSyntaxError { #expect(e.line == line, "\(bad): \(e)") } catch {}
        }
        // Nesting is bounded, so a hostile file cannot exhaust the stack.
        #expect(throws: JSONSyntaxError.self) { try JSONDocument.parse(String(repeating: "[", count: 100_000)) }
    }

    @Test func drawsAreNestedAndUniformlyChosen() {
        let small = SampleDraw.draw(40, from: 1000, seed: 9), large = SampleDraw.draw(400, from: 1000, seed: 9)
        #expect(Array(large.prefix(40)) == small)
        #expect(Set(large).count == 400 && large.allSatisfy { (0..<1000).contains($0) })
        // The same chosen set as the (array-based) sampler data preparation uses.
        var rng = SeededGenerator(seed: 9)
        #expect(large.sorted() == rng.sampleIndices(400, from: 1000))
        #expect(SampleDraw.draw(1000, from: 1000, seed: 1).sorted() == Array(0..<1000))
        #expect(SampleDraw.draw(5, from: 1000, seed: 1) != SampleDraw.draw(5, from: 1000, seed: 2))
        // Each split has its own stream.
        let d = SampleDraw(seed: 4, sizes: .init(train: 10, valid: 10, test: 10), available: .init(train: 50, valid: 50, test: 50))
        #expect(d.train != d.valid && d.valid != d.test)
    }

    @Test func runLogKeepsTheLastLineOfEachStep() {
        // Killed after step 3 (checkpoint at 2), resumed: steps 3 and 4 logged again.
        let text = """
            {"loss":3.0,"step":1}
            {"loss":2.5,"step":2}
            {"best":true,"step":2,"valid_loss":2.4}
            {"loss":2.2,"step":3}
            {"loss":2.1,"step":3}
            {"loss":2.0,"step":4}
            {"best":true,"step":4,"valid_loss":2.3}
            not json
            """
        let log = RunLog.parse(text)
        #expect(log.map(\.step) == [1, 2, 2, 3, 4, 4])
        #expect(log.map(\.kind) == [.step, .step, .validation, .step, .step, .validation])
        #expect(log[3].value("loss") == 2.1 && log[3].line == #"{"loss":2.1,"step":3}"#)
        #expect(log[5].value("valid_loss") == 2.3)
    }

    @Test func rankingsRoundTripAndPartialFilesDropACutLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-ranked-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples = [RankedSample(position: 0, target: 5, rank: 1, items: [3, 5, 9]), RankedSample(position: 1, target: 7, rank: nil, items: [1, 2]),
                       RankedSample(position: 2, target: 0, rank: 0, items: [0])]
        let url = dir.appendingPathComponent("plain.tsv")
        try RankedSample.write(samples, to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "position\ttarget\trank\titems\n0\t5\t1\t3 5 9\n1\t7\t-1\t1 2\n2\t0\t0\t0\n")
        #expect(try RankedSample.read(url) == samples)
        // A line out of order is named.
        try Data("position\ttarget\trank\titems\n0\t5\t1\t3 5 9\n2\t0\t0\t0\n".utf8).write(to: url)
        #expect(throws: StudyError.self) { try RankedSample.read(url) }

        let partial = dir.appendingPathComponent("plain.partial.tsv")
        var timed = samples
        for i in timed.indices { timed[i].seconds = 0.25 }
        try RankedSample.append(Array(timed.prefix(2)), to: partial)
        #expect(RankedSample.readPartial(partial) == Array(timed.prefix(2)))
        // A kill mid-write leaves a cut last line: it is not read.
        let handle = try FileHandle(forWritingTo: partial)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("2\t0\t0".utf8))
        try handle.close()
        #expect(RankedSample.readPartial(partial) == Array(timed.prefix(2)))
    }
}
