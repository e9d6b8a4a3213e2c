// What every arm of a study shares, set up once per `study run`: the prepared dataset (made in
// the runs directory if missing, with every sample), the drawn samples, the training-target
// counts of the whole training split (IG and popularity), and the catalog index built with the
// base model's tokenizer.
import CatalogIndex
import CausalLM
import Foundation
import ItemIndex
import RecData
import Support
import Tokenizers

struct StudyContext {
    let dataset: PreparedDataset
    let train: [StoredSample]
    let valid: [StoredSample]
    let test: [StoredSample]
    let draw: SampleDraw
    /// How often each item is a target in the whole training split.
    let targetCounts: [Int]
    let tokenizer: BPETokenizer
    /// The catalog index every arm trains and decodes with: the trie, IG from `targetCounts`, prompts.
    let catalog: TokenizedCatalog
    /// Every sample's whole history, when a decoder asks for more than the stored one.
    let histories: UserHistories?

    static func load(plan: StudyPlan, files: StudyFiles, source: ModelSource, say: (String) -> Void) throws -> StudyContext {
        let dataset = try prepareDataset(plan.dataset, at: files.data, say: say)
        let train = try DatasetReader.samples(.train, of: dataset)
        let valid = try DatasetReader.samples(.valid, of: dataset)
        let test = try DatasetReader.samples(.test, of: dataset)
        // The largest training set the plan may need, so every size is a prefix of one draw.
        let maxTrain = ([plan.samples.train] + (plan.powerCheck?.train ?? [])).max()!
        let draw = SampleDraw(seed: plan.samples.seed,
                              sizes: .init(train: maxTrain, valid: plan.samples.valid, test: plan.samples.test),
                              available: .init(train: train.count, valid: valid.count, test: test.count))
        for (name, want, got) in [("test", plan.samples.test, draw.test.count), ("valid", plan.samples.valid, draw.valid.count)] where got < want {
            throw StudyError.missing("the plan asks for \(want) \(name) windows but the \(name) split of \(files.data.path) holds \(got)")
        }
        if files.exists(files.samples) {
            let stored = try StudyJSON.read(SampleDraw.self, from: files.samples)
            // A stored draw may be longer (a power check grew it) or shorter; its common prefix must agree.
            let agree = stored.seed == draw.seed && stored.valid == draw.valid && stored.test == draw.test
                && zip(stored.train, draw.train).allSatisfy { $0 == $1 }
            guard agree else {
                throw StudyError.damagedResult(file: files.samples.path, message: "the stored sample draw differs from this plan's (seed \(draw.seed)) on the same dataset")
            }
            if stored.train.count < draw.train.count { try StudyJSON.write(draw, to: files.samples) }
        } else {
            try StudyJSON.write(draw, to: files.samples)
        }
        var counts = [Int](repeating: 0, count: dataset.catalog.count)
        for s in train { counts[s.target] += 1 }
        let tokenizer = try source.loadTokenizer()
        let catalog = try TokenizedCatalog(dataset: dataset, tokenizer: tokenizer, targetCounts: counts)
        let histories = plan.decoders.contains { $0.history != nil }
            ? UserHistories(splits: [train, valid, test], historyLength: plan.dataset.history) : nil
        let context = StudyContext(dataset: dataset, train: train, valid: valid, test: test, draw: draw, targetCounts: counts,
                                   tokenizer: tokenizer, catalog: catalog, histories: histories)
        try context.writeSummaries(files)
        return context
    }

    /// The dataset directory for `spec`, prepared now when missing; an existing one must match.
    static func prepareDataset(_ spec: DatasetSpec, at url: URL, say: (String) -> Void) throws -> PreparedDataset {
        let source = try DataSource.resolve(dataset: spec.source, items: nil, format: .auto)
        var options = BuildOptions()
        options.historyLength = spec.history
        options.split = spec.split
        options.kCore = spec.kcore
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(DatasetFile.manifest).path) {
            let dataset = try DatasetReader.open(url)
            guard dataset.manifest.options == options, dataset.manifest.source == source else {
                throw StudyError.missing("\(url.path) holds a dataset prepared with other settings than the plan's; remove it and run again")
            }
            return dataset
        }
        say("preparing \(spec.source) into \(url.path) (split \(spec.split.rawValue), history \(spec.history))")
        _ = try DatasetPreparation.run(source: source, options: options, out: url, replace: false)
        return try DatasetReader.open(url)
    }

    /// The training samples of an arm: the first `count` of the draw.
    func trainSamples(_ count: Int) -> [StoredSample] { SampleDraw.pick(draw.train.prefix(count), from: train) }
    var validSamples: [StoredSample] { SampleDraw.pick(draw.valid, from: valid) }
    /// The first `count` test windows of the draw.
    func testSamples(_ count: Int) -> [StoredSample] { SampleDraw.pick(draw.test.prefix(count), from: test) }

    /// The first `count` test windows of the draw, each with up to `history` items of its user's
    /// whole sequence (nil: as stored).
    func testSamples(_ count: Int, history: Int?) -> [StoredSample] {
        guard let history, let histories else { return testSamples(count) }
        return draw.test.prefix(count).map { histories.sample(test[$0], split: 2, index: $0, limit: history) }
    }

    /// results/dataset.json and results/ig.json: what the report says about the data.
    func writeSummaries(_ files: StudyFiles) throws {
        let sequences = catalog.ig.trie.sequences
        let record = DatasetRecord(
            users: dataset.stats.users, catalogItems: dataset.catalog.count, duplicateTitlesMerged: dataset.stats.duplicateTitlesMerged,
            interactions: dataset.stats.interactions, trainSamples: train.count, validSamples: valid.count, testSamples: test.count,
            targetCountSource: "the whole training split (\(train.count) samples), not only the drawn training windows",
            targetCountTotal: targetCounts.reduce(0, +),
            meanResponseTokens: Double(sequences.reduce(0) { $0 + $1.count }) / Double(max(sequences.count, 1)),
            trieNodes: catalog.ig.trie.nodeCount)
        if (try? StudyJSON.read(DatasetRecord.self, from: files.datasetSummary)) != record { try StudyJSON.write(record, to: files.datasetSummary) }
        if !files.exists(files.ig) {
            let stats = IGStatistics(catalog.ig, targets: train.map(\.target))
            let ig = IGRecord(zeroShare: stats.zeroShare, targetTokens: stats.targetTokens, byPosition: stats.byPosition.map {
                .init(position: $0.position, tokens: $0.tokens, zeroShare: $0.zeroShare, meanGain: $0.meanIG)
            })
            try StudyJSON.write(ig, to: files.ig)
        }
    }
}
