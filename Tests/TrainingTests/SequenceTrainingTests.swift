// Sequence training (docs/DESIGN.md, "Sequence training"): users' samples chain into sequences,
// chunks teach every target exactly once with its context, and — on the tiny Llama, through the
// CPU engine — a target inside a chunk gets exactly the loss and gradients of a window whose prompt
// is the same tokens before it, and chunks packed in one batch give what each gives alone.
import CatalogIndex
import CausalLM
import Foundation
import ItemIndex
import RecData
import Support
import Testing
import Tokenizers
@testable import Training

@Suite("Sequence training")
struct SequenceTrainingTests {
    static func sample(_ user: String, _ history: [Int], _ target: Int) -> StoredSample {
        StoredSample(user: user, history: history, target: target, timestamp: 0)
    }

    @Test func samplesChainIntoEachUsersSequence() {
        // Two users interleaved, as a time-sorted split holds them; history capped at 3.
        let samples = [Self.sample("a", [7], 8), Self.sample("b", [1], 2), Self.sample("a", [7, 8], 9),
                       Self.sample("a", [7, 8, 9], 10), Self.sample("b", [1, 2], 3), Self.sample("a", [8, 9, 10], 11)]
        let chains = UserSequences.chain(samples, historyLength: 3)
        #expect(chains == [UserSequence(user: "a", items: [7, 8, 9, 10, 11], firstTarget: 1),
                           UserSequence(user: "b", items: [1, 2, 3], firstTarget: 1)])
        // A sample that does not continue its user's chain (a subsampled split) opens a new one.
        let gap = UserSequences.chain([Self.sample("a", [7], 8), Self.sample("a", [1, 2, 3], 4)], historyLength: 3)
        #expect(gap.map(\.items) == [[7, 8], [1, 2, 3, 4]] && gap.map(\.firstTarget) == [1, 3])
        // Whole histories across splits: the test sample sees its user's items from every split.
        let histories = UserHistories(splits: [Array(samples.prefix(4)), [samples[4]], [samples[5]]], historyLength: 3)
        #expect(histories.history(split: 2, index: 0, limit: 50) == [7, 8, 9, 10])
        #expect(histories.history(split: 2, index: 0, limit: 2) == [9, 10])
        #expect(histories.history(split: 1, index: 0, limit: 50) == [1, 2])
    }

    static let dataset = TrainerTests.dataset

    static func catalog() throws -> (DecoderModel, TokenizedCatalog) {
        let (model, tokenizer) = try ModelSource.resolve(tinyLlama.path).load()
        return (model, try TokenizedCatalog(dataset: DatasetReader.open(dataset), tokenizer: tokenizer).formatted(.sequences))
    }

    /// Random chains cut into chunks: every target once, in order; each chunk within budget
    /// unless it holds a single target; each target with min(context, its position) items before it.
    @Test func chunksTeachEveryTargetOnceWithItsContext() throws {
        let (_, catalog) = try Self.catalog()
        var rng = SeededGenerator(seed: 7)
        for budget in [64, 80, 120, 400] {
            let chunker = SequenceChunks(catalog: catalog, maxTokens: budget)
            for _ in 0..<50 {
                let n = 2 + rng.below(40), first = 1 + rng.below(min(3, n - 1))
                let seq = UserSequence(user: "u", items: (0..<n).map { _ in rng.below(catalog.catalog.count) }, firstTarget: first)
                let chunks = chunker.chunks(seq, context: 10)
                #expect(chunks.flatMap(\.targets) == Array(seq.items[first...]))
                var position = first
                for c in chunks {
                    #expect(c.history == Array(seq.items[max(0, position - 10)..<position]))
                    #expect(c.lengthHint == chunker.tokens(history: c.history, targets: c.targets))
                    #expect(c.lengthHint <= budget || c.targets.count == 1)
                    let row = TrainingCorpus(catalog: catalog, train: [], valid: [], format: .sequences).assemble([c]).sequences[0]
                    #expect(row.count == c.lengthHint)
                    position += c.targets.count
                }
            }
        }
    }

    /// The loss and gradient of `batch` through the CPU engine (no dropout).
    static func lossAndGradients(_ model: DecoderModel, _ batch: AssembledBatch, _ settings: LossSettings) throws -> (Double, [Float]) {
        let engine = CPUTrainingEngine(model: model, adapter: nil, recompute: false, precision: .fp32, adamW: AdamWSettings(weightDecay: 0))
        engine.zeroGradients()
        let loss = try engine.accumulate(batch, settings: settings, gradAccum: 1, dropoutSeed: 0, temperature: nil)
        return (loss, Array(UnsafeBufferPointer(start: engine.grads.data, count: engine.count)))
    }

    /// What tokenLoss divides by: the sum of the positions' weights under `settings`.
    static func normaliser(_ positions: [ScoredPosition], _ s: LossSettings) -> Double {
        positions.reduce(0) { sum, p in
            s.kind.masked && p.valid.count <= 1 ? sum : sum + (s.kind.weighted ? igdWeight(p, beta: s.beta) : 1)
        }
    }

    /// Loss and gradient of several batches' positions pooled into one mean: each part weighted by its normaliser.
    static func pooled(_ parts: [(loss: Double, grads: [Float], weight: Double)]) -> (Double, [Float]) {
        let total = parts.reduce(0) { $0 + $1.weight }
        var grads = [Float](repeating: 0, count: parts[0].grads.count)
        var loss = 0.0
        for p in parts {
            loss += p.loss * p.weight / total
            for i in grads.indices { grads[i] += Float(p.weight / total) * p.grads[i] }
        }
        return (loss, grads)
    }

    static func expectClose(_ a: (Double, [Float]), _ b: (Double, [Float]), _ what: String) {
        #expect(abs(a.0 - b.0) <= 1e-5 * max(1, abs(b.0)), "\(what): loss \(a.0) against \(b.0)")
        let scale = b.1.reduce(Float(0)) { max($0, abs($1)) }
        let worst = zip(a.1, b.1).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(worst <= 2e-4 * scale, "\(what): gradients differ by \(worst) (largest \(scale))")
    }

    static let settings: [LossSettings] = [LossSettings(kind: .ce), LossSettings(kind: .igd, beta: 0.1),
                                            LossSettings(kind: .msl, tau: 1.7), LossSettings(kind: .mslIGD, beta: 0.3, tau: 1.2)]

    /// A target inside a chunk is scored from the tokens before it, exactly as a window whose
    /// prompt is those tokens: the chunk's loss and gradients are its targets' windows pooled.
    @Test(arguments: SequenceTrainingTests.settings)
    func aTargetInAChunkIsTheWindowWithTheSameContext(_ settings: LossSettings) throws {
        let (model, catalog) = try Self.catalog()
        let corpus = TrainingCorpus(catalog: catalog, train: [], valid: [], format: .sequences)
        let chunk = TrainingExample(history: [1, 0], targets: [2, 3, 0, 2], lengthHint: 0)
        let whole = try Self.lossAndGradients(model, corpus.assembled([chunk]), settings)
        var parts: [(loss: Double, grads: [Float], weight: Double)] = []
        for j in chunk.targets.indices {
            // The window: the header and every item before target j as its prompt, then target j.
            let prompt = catalog.promptTokens(history: chunk.history + chunk.targets[..<j])
            let response = catalog.ig.trie.sequences[chunk.targets[j]]
            let positions = catalog.ig.scoredPositions(ofItem: chunk.targets[j])
            let window = AssembledBatch(sequences: [prompt + response.dropLast()], outputs: [Array((prompt.count - 1)..<(prompt.count - 1 + response.count))],
                                        positions: positions, firstScored: [nil])
            let (loss, grads) = try Self.lossAndGradients(model, window, settings)
            parts.append((loss, grads, Self.normaliser(positions, settings)))
        }
        Self.expectClose(whole, Self.pooled(parts.filter { $0.weight > 0 }), "\(settings.kind)")
    }

    /// Chunks packed in one batch (one token stream, attention blocked between them) give the
    /// loss and gradients of each chunk alone, pooled.
    @Test(arguments: SequenceTrainingTests.settings)
    func packedChunksGiveWhatEachGivesAlone(_ settings: LossSettings) throws {
        let (model, catalog) = try Self.catalog()
        let corpus = TrainingCorpus(catalog: catalog, train: [], valid: [], format: .sequences)
        let chunks = [TrainingExample(history: [1], targets: [2, 3], lengthHint: 0), TrainingExample(history: [], targets: [0, 1, 2], lengthHint: 0),
                      TrainingExample(history: [3, 2, 1], targets: [0], lengthHint: 0)]
        let packed = try Self.lossAndGradients(model, corpus.assembled(chunks), settings)
        let parts = try chunks.map { c in
            let batch = corpus.assembled([c])
            let (loss, grads) = try Self.lossAndGradients(model, batch, settings)
            return (loss: loss, grads: grads, weight: Self.normaliser(batch.positions, settings))
        }
        Self.expectClose(packed, Self.pooled(parts.filter { $0.weight > 0 }), "\(settings.kind)")
    }

    /// Each item of a sequence prompt is its trie path, joined as ids: never re-tokenized text.
    @Test func sequencePromptsJoinTriePaths() throws {
        let (_, catalog) = try Self.catalog()
        let prompt = catalog.promptTokens(history: [2, 0])
        let paths = catalog.ig.trie.sequences
        #expect(prompt.suffix(paths[2].count + paths[0].count).elementsEqual(paths[2] + paths[0]))
        #expect(Array(prompt.prefix(prompt.count - paths[2].count - paths[0].count)) == catalog.promptTokens(history: []))
        #expect(catalog.formatted(.windows).promptTokens(history: [2, 0]) != prompt)
    }
}

/// The packed sequence batch against an independent implementation in PyTorch
/// (scripts/fixtures/make_sequence_fixtures.py): the rows, output positions, valid sets and zero-IG
/// flags our assembly makes, and each loss's value and every parameter's gradient, with the two
/// chunks packed into one token stream here and run one by one there.
@Suite("Sequence batch against PyTorch")
struct SequenceFixtureTests {
    struct Fixture: Decodable {
        struct Chunk: Decodable { let history: [Int]; let targets: [Int] }
        struct Position: Decodable { let target: Int32; let valid: [Int32]; let zero_ig: Bool }
        struct Loss: Decodable {
            struct Entry: Decodable { let offset: Int; let shape: [Int] }
            let loss: Double
            let file: String
            let tensors: [String: Entry]
        }
        let titles: [String]
        let counts: [Int]
        let chunks: [Chunk]
        let beta: Double
        let tau: Double
        let sequences: [[Int32]]
        let outputs: [[Int]]
        let positions: [Position]
        let losses: [String: Loss]
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test(arguments: LossKind.allCases)
    func packedChunksMatchPyTorch(_ kind: LossKind) throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("sequence_batch.json")))
        let (model, tokenizer) = try ModelSource.resolve(tinyLlama.path).load()
        let dataset = try DatasetReader.open(TrainerTests.dataset)
        // The fixture's titles are the dataset's catalog, in its own order.
        let ids = try fixture.titles.map { title in try #require(dataset.catalog.titles.firstIndex(of: title), "\(title) in the catalog") }
        var counts = [Int](repeating: 0, count: dataset.catalog.count)
        for (id, count) in zip(ids, fixture.counts) { counts[id] = count }
        let catalog = try TokenizedCatalog(dataset: dataset, tokenizer: tokenizer, targetCounts: counts)
        let corpus = TrainingCorpus(catalog: catalog, train: [], valid: [], format: .sequences)
        let chunks = fixture.chunks.map { TrainingExample(history: $0.history.map { ids[$0] }, targets: $0.targets.map { ids[$0] }, lengthHint: 0) }
        let batch = corpus.assembled(chunks)
        #expect(batch.sequences == fixture.sequences)
        #expect(batch.outputs == fixture.outputs)
        #expect(batch.positions.map(\.target) == fixture.positions.map(\.target))
        #expect(batch.positions.map(\.valid) == fixture.positions.map(\.valid))
        #expect(batch.positions.map { $0.isEOS || InformationGain.isZero($0.informationGain) } == fixture.positions.map(\.zero_ig))

        let reference = try #require(fixture.losses[kind.rawValue])
        let want = try Data(contentsOf: Self.fixtures.appendingPathComponent(reference.file)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let (loss, grads) = try SequenceTrainingTests.lossAndGradients(model, batch, LossSettings(kind: kind, beta: fixture.beta, tau: fixture.tau))
        #expect(abs(loss - reference.loss) < 1e-4 * reference.loss, "\(kind): loss \(loss) vs \(reference.loss)")
        var slots: [(String, TensorSlot)] = model.layout.globals.map { (WeightNames.huggingFace($0.key), $0.value) }
        for (i, layer) in model.layout.layers.enumerated() { slots += layer.map { (WeightNames.huggingFace($0.key, layer: i), $0.value) } }
        #expect(slots.count == reference.tensors.count)
        for (tensor, slot) in slots {
            let entry = try #require(reference.tensors[tensor], "no reference for \(tensor)")
            let got = grads[slot.offset..<(slot.offset + slot.count)], ref = want[entry.offset..<(entry.offset + slot.count)]
            var diff2 = 0.0, ref2 = 0.0
            for (a, b) in zip(got, ref) { diff2 += Double(a - b) * Double(a - b); ref2 += Double(b) * Double(b) }
            let relative = (diff2 / max(ref2, 1e-30)).squareRoot()
            #expect(relative <= 2e-4, "\(kind) \(tensor): relative error \(relative)")
        }
    }
}

/// Sequence runs through the Trainer: a token budget sets the steps, the log counts tokens, and a
/// killed LoRA run in bf16 with MSL+IGD and ATS resumes to the uninterrupted run's weights.
@Suite("Sequence runs", .serialized)
struct SequenceRunTests {
    func makeTrainer(_ dir: URL, _ p: TrainingParameters, resume: Bool) throws -> Trainer {
        let (model, tokenizer) = try ModelSource.resolve(tinyLlama.path).load()
        let corpus = try TrainingCorpus(catalog: TokenizedCatalog(dataset: DatasetReader.open(TrainerTests.dataset), tokenizer: tokenizer),
                                        maxValid: 10, format: p.format, maxTokens: p.chunkTokens)
        let run = RunDirectory(dir)
        try run.prepare(RunConfig(parameters: p, model: tinyLlama.path, modelFingerprint: "m", data: "d", dataFingerprint: "d"), resume: resume)
        return try Trainer(model: model, corpus: corpus, parameters: p, run: run)
    }

    var params: TrainingParameters {
        var p = TrainingParameters()
        p.samples = .sequences
        p.maxTokens = 64
        p.loss = .mslIGD
        p.ats = true
        p.batch = 1
        p.learningRate = 3e-3
        p.warmup = 1
        p.evalEvery = 2
        p.precision = .bf16
        p.lora = LoRASettings(rank: 4, alpha: 8, dropout: 0.1, targets: LoRATarget.defaults)
        return p
    }

    @Test func aTokenBudgetSetsTheStepsAndAKilledRunResumesExactly() throws {
        let fm = FileManager.default
        let a = fm.temporaryDirectory.appendingPathComponent("llmrec-seqrun-\(UUID().uuidString.prefix(8))")
        let b = fm.temporaryDirectory.appendingPathComponent("llmrec-seqrun-\(UUID().uuidString.prefix(8))")
        defer { try? fm.removeItem(at: a); try? fm.removeItem(at: b) }
        var p = params
        let probe = try makeTrainer(a, p, resume: false)
        let chunks = probe.corpus.train
        #expect(chunks.count >= 2 && chunks.allSatisfy { $0.lengthHint <= 64 || $0.targets.count == 1 })
        // A budget of about three epochs' tokens.
        let perEpoch = chunks.reduce(0) { $0 + probe.corpus.tokens($1) }
        p.trainTokens = 3 * perEpoch - 1
        try fm.removeItem(at: a)
        let full = try makeTrainer(a, p, resume: false)
        #expect(full.totalSteps == 3 * chunks.count, "three epochs of one chunk a step")
        try full.train(resume: false) { _ in }
        let log = try String(contentsOf: a.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["tokens"] != nil }
        let totals = log.compactMap { $0["tokens_total"] as? Int }
        #expect(totals.count == full.totalSteps && totals.last! >= p.trainTokens! && totals.dropLast().last! < p.trainTokens!)
        #expect(zip(totals, totals.dropFirst()).allSatisfy { $0 < $1 })

        let first = try makeTrainer(b, p, resume: false)
        #expect(throws: SimulatedKill.self) { try first.train(resume: false) { if case .step(3, _, _, _, _, _, _) = $0 { throw SimulatedKill() } } }
        let second = try makeTrainer(b, p, resume: true)
        try second.train(resume: true) { _ in }
        let weights = { (t: Trainer) in Array(UnsafeBufferPointer(start: t.adapter!.parameters.data, count: t.adapter!.parameters.count)) }
        #expect(weights(full) == weights(second), "resumed adapters differ from the uninterrupted run")
        let resumedTotals = try String(contentsOf: b.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["tokens_total"] as? Int }
        #expect(resumedTotals == totals, "the resumed run counts the same tokens")
    }
}
