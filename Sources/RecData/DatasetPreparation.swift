// `data prepare` as a library call: read a source, build the samples, write the directory.
// The CLI only parses options and prints the summary.
import Foundation

public struct PreparationResult: Sendable {
    public var dataset: BuiltDataset
    public var stats: DatasetStats
    public var manifest: DatasetManifest
    /// Seconds spent reading, building and writing.
    public var readSeconds: Double, buildSeconds: Double, writeSeconds: Double
}

public enum DatasetPreparation {
    /// Counts the tokens of a response text (EOS included), with the name of the tokenizer.
    public typealias TokenCounter = (name: String, count: @Sendable (String) -> Int)

    public static func run(
        source: DataSource, encoding: TextEncoding = .auto, options: BuildOptions,
        vocabulary: PromptVocabulary? = nil, tokenCounter: TokenCounter? = nil, out: URL, replace: Bool
    ) throws -> PreparationResult {
        let t0 = Date()
        let built: BuiltDataset
        let t1: Date
        if source.format.isSampleFiles, let splits = source.splits {
            built = try SampleFileReader.read(source.format, splits: splits, titles: source.items.isEmpty ? nil : source.items, options: options)
            t1 = Date()
        } else {
            let log = try source.read(encoding: encoding)
            t1 = Date()
            built = try DatasetBuilder.build(log, options: options)
        }
        guard !built.train.isEmpty, !built.test.isEmpty else {
            throw DataError.noSamples(
                "\(source.interactions): the \(built.train.isEmpty ? "train" : "test") split is empty "
                    + "(\(built.counts.interactions) interactions from \(built.counts.users) users); more data is needed")
        }
        let t2 = Date()
        let manifest = DatasetManifest(
            source: source, encoding: encoding, options: options,
            prompt: PromptTemplate(vocabulary: vocabulary ?? source.defaultVocabulary))
        var stats = DatasetStats(built)
        if let counter = tokenCounter, built.catalog.count > 0 {
            let lengths = built.catalog.titles.map { counter.count(manifest.prompt.response(title: $0)) }
            stats.responseTokens = DatasetStats.TokenLengths(
                mean: Double(lengths.reduce(0, +)) / Double(lengths.count), max: lengths.max()!, tokenizer: counter.name)
        }
        try DatasetWriter.write(built, manifest: manifest, stats: stats, to: out, replace: replace,
                                inputs: source.inputs)
        let t3 = Date()
        return PreparationResult(
            dataset: built, stats: stats, manifest: manifest,
            readSeconds: t1.timeIntervalSince(t0), buildSeconds: t2.timeIntervalSince(t1), writeSeconds: t3.timeIntervalSince(t2))
    }
}
