// GGUF reading and ggml dequantisation against gguf-py (scripts/fixtures/make_gguf_fixtures.py),
// corrupt files, and the real SmolLM2 GGUF when it is fetched.
import Foundation
import Testing
@testable import ModelFormats

func modelFixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(name)
}

func scratchFile(_ name: String) -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-mf-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name)
}

private func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.utf8.makeIterator()
    func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
    while let a = it.next(), let b = it.next() { out.append(nibble(a) << 4 | nibble(b)) }
    return out
}

struct QuantCase: Decodable { let bytes: String; let values: [Double] }

@Suite("GGUF and ggml types")
struct GGUFTests {
    static let quantCases: [String: QuantCase] = {
        let data = try! Data(contentsOf: modelFixture("quants.json"))
        return try! JSONDecoder().decode([String: QuantCase].self, from: data)
    }()

    @Test(arguments: GGMLType.allCases)
    func dequantisationMatchesGGUFPy(_ type: GGMLType) throws {
        let c = try #require(Self.quantCases[type.name], "no fixture for \(type.name)")
        let bytes = hexBytes(c.bytes)
        let n = c.values.count
        #expect(bytes.count == n / type.blockSize * type.blockBytes)
        var out = [Float](repeating: .nan, count: n)
        bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { dequantize(type, raw, into: $0.baseAddress!, count: n) } }
        var maxDiff: Double = 0
        for i in 0..<n {
            let diff = abs(Double(out[i]) - c.values[i])
            maxDiff = max(maxDiff, diff / max(1, abs(c.values[i])))
        }
        // Same arithmetic in a possibly different order: a few float32 ulps at most.
        #expect(maxDiff <= 1e-6, "\(type.name): max relative diff \(maxDiff); first: \(out.prefix(4)) vs \(c.values.prefix(4))")
    }

    @Test func tinyFileMetadataOfEveryType() throws {
        let f = try GGUFFile(path: modelFixture("tiny.gguf").path)
        #expect(f.version == 3)
        #expect(f.metadata["t.u8"] == .uint(200))
        #expect(f.metadata["t.i8"] == .int(-100))
        #expect(f.metadata["t.u16"] == .uint(60000))
        #expect(f.metadata["t.i16"] == .int(-30000))
        #expect(f.metadata["t.u32"] == .uint(4_000_000_000))
        #expect(f.metadata["t.i32"] == .int(-2_000_000_000))
        #expect(f.metadata["t.f32"] == .float(0.25))
        #expect(f.metadata["t.u64"] == .uint(1 << 63 + 5))
        #expect(f.metadata["t.i64"] == .int(-(1 << 62)))
        #expect(f.metadata["t.f64"] == .float(1.0 / 3.0))
        #expect(f.metadata["t.bool"] == .bool(true))
        #expect(f.metadata["t.str"] == .string("héllo ✓"))
        #expect(f.metadata["t.strs"] == .strings(["a", "", "ü"]))
        #expect(f.metadata["t.floats"] == .floats([0.5, -1.5]))
        #expect(f.metadata["t.bools"] == .bools([true, false]))
        #expect(try f.string("general.architecture") == "llama")
        #expect(throws: FormatError.self) { try f.int("t.str") }
        #expect(throws: FormatError.self) { try f.int("no.such.key") }
    }

    @Test func tinyFileTensors() throws {
        struct Expected: Decodable { let type: String; let dims: [Int]; let values: [Double] }
        struct Doc: Decodable { let tensors: [String: Expected] }
        let doc = try JSONDecoder().decode(Doc.self, from: Data(contentsOf: modelFixture("tiny.json")))
        let f = try GGUFFile(path: modelFixture("tiny.gguf").path)
        #expect(f.tensors.count == doc.tensors.count)
        for (name, e) in doc.tensors {
            let t = try #require(f.tensor(name))
            #expect(t.type.name == e.type, "\(name)")
            #expect(t.dims == e.dims, "\(name)")
            let got = f.floats(t)
            #expect(got.count == e.values.count)
            #expect(zip(got, e.values).allSatisfy { abs(Double($0) - $1) <= 1e-6 * max(1, abs($1)) }, "\(name)")
        }
    }

    @Test func everyTruncationIsAnErrorNotACrash() throws {
        let full = try Data(contentsOf: modelFixture("tiny.gguf"))
        let tensorsEnd = try GGUFFile(path: modelFixture("tiny.gguf").path).tensors.map { $0.offset + $0.byteCount }.max()!
        let url = scratchFile("cut.gguf")
        for length in stride(from: 0, to: tensorsEnd, by: 1) {
            try full.prefix(length).write(to: url)
            #expect(throws: FormatError.self, "a file cut at \(length) bytes must not load") {
                _ = try GGUFFile(path: url.path)
            }
        }
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let full = [UInt8](try Data(contentsOf: modelFixture("tiny.gguf")))
        let url = scratchFile("flip.gguf")
        var state: UInt64 = 12345
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var loaded = 0, rejected = 0
        for _ in 0..<400 {
            var bytes = full
            for _ in 0..<(1 + next() % 4) {
                // Corrupt the header region (metadata and tensor infos), where lengths live.
                let i = next() % 700
                bytes[i] = UInt8(truncatingIfNeeded: next())
            }
            try Data(bytes).write(to: url)
            do {
                let f = try GGUFFile(path: url.path)
                for t in f.tensors { #expect(t.offset + t.byteCount <= bytes.count) }
                loaded += 1
            } catch is FormatError {
                rejected += 1
            }
        }
        #expect(loaded + rejected == 400)
        #expect(rejected > 0)
    }

    /// A damaged count is reported as the count, with the bytes it would need saturated rather
    /// than wrapped into a negative number.
    @Test func aHugeCountIsReportedAsItIs() throws {
        var bytes = [UInt8](try Data(contentsOf: modelFixture("tiny.gguf")))
        let url = scratchFile("count.gguf")
        // The tensor count: a little-endian UInt64 after the magic and the version.
        let huge: UInt64 = 0xF000_0000_0000_0000
        withUnsafeBytes(of: huge.littleEndian) { for (i, b) in $0.enumerated() { bytes[8 + i] = b } }
        try Data(bytes).write(to: url)
        #expect { try GGUFFile(path: url.path) } throws: { error in
            let message = "\(error)"
            return message.contains("count \(huge)") && !message.contains("needs -")
        }
    }

    @Test func headerErrorsSayWhatWasExpected() throws {
        var bytes = [UInt8](try Data(contentsOf: modelFixture("tiny.gguf")))
        let url = scratchFile("bad.gguf")
        bytes[0] = UInt8(ascii: "X")
        try Data(bytes).write(to: url)
        #expect { try GGUFFile(path: url.path) } throws: { "\($0)".contains("invalid magic characters 'XGUF'") }
        bytes[0] = UInt8(ascii: "G")
        bytes[4] = 1
        try Data(bytes).write(to: url)
        #expect { try GGUFFile(path: url.path) } throws: { "\($0)".contains("GGUF version 1 is not supported") }
        #expect { try GGUFFile(path: "/nonexistent.gguf") } throws: { "\($0)".contains("/nonexistent.gguf: cannot open") }
    }

    @Test func unsupportedTensorTypeNamesTheTensor() throws {
        let f = try GGUFFile(path: modelFixture("tiny.gguf").path)
        var bytes = [UInt8](try Data(contentsOf: modelFixture("tiny.gguf")))
        // The type field of the first tensor info follows its name and dims; find it by the name.
        let name = Array("a.f32".utf8)
        let at = try #require((0..<(bytes.count - name.count)).first { Array(bytes[$0..<($0 + name.count)]) == name })
        let dims = f.tensor("a.f32")!.dims.count
        let typeOffset = at + name.count + 4 + 8 * dims
        bytes[typeOffset] = 99
        let url = scratchFile("type.gguf")
        try Data(bytes).write(to: url)
        #expect { try GGUFFile(path: url.path) } throws: { "\($0)".contains("tensor 'a.f32' of ggml type 99 is not supported") }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: smolLM2Path), "needs SmolLM2; run scripts/fetch-assets.sh"))
    func realSmolLM2() throws {
        let f = try GGUFFile(path: smolLM2Path)
        #expect(f.tensors.count == 272)
        #expect(try f.string("general.architecture") == "llama")
        #expect(try f.int("llama.block_count") == 30)
        #expect(try f.int("llama.embedding_length") == 576)
        #expect(try f.strings("tokenizer.ggml.tokens").count == 49152)
        #expect(try f.string("tokenizer.ggml.pre") == "smollm")
        let embedding = try #require(f.tensor("token_embd.weight"))
        #expect(embedding.dims == [576, 49152] && embedding.type == .q8_0)
        let q = try #require(f.tensor("blk.0.attn_q.weight"))
        #expect(q.type == .q4_1)
        let values = f.floats(q)
        #expect(values.allSatisfy { $0.isFinite })
        let rms = (values.reduce(0) { $0 + Double($1 * $1) } / Double(values.count)).squareRoot()
        #expect(rms > 0.005 && rms < 1, "weights of a trained model: rms \(rms)")
    }
}

let smolLM2Path: String = {
    let home = ProcessInfo.processInfo.environment["LLMREC_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/llmrec").path
    return home + "/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
}()
