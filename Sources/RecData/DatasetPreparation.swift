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
    public static func run(
        source: DataSource, encoding: TextEncoding = .auto, options: BuildOptions,
        vocabulary: PromptVocabulary? = nil, out: URL, replace: Bool
    ) throws -> PreparationResult {
        let t0 = Date()
        let log = try source.read(encoding: encoding)
        let t1 = Date()
        let built = try DatasetBuilder.build(log, options: options)
        guard !built.train.isEmpty, !built.test.isEmpty else {
            throw DataError.noSamples(
                "\(source.interactions): the \(built.train.isEmpty ? "train" : "test") split is empty "
                    + "(\(built.counts.interactions) interactions from \(built.counts.users) users); more data is needed")
        }
        let t2 = Date()
        let manifest = DatasetManifest(
            source: source, encoding: encoding, options: options,
            prompt: PromptTemplate(vocabulary: vocabulary ?? source.defaultVocabulary))
        try DatasetWriter.write(built, manifest: manifest, to: out, replace: replace)
        let t3 = Date()
        return PreparationResult(
            dataset: built, stats: DatasetStats(built), manifest: manifest,
            readSeconds: t1.timeIntervalSince(t0), buildSeconds: t2.timeIntervalSince(t1), writeSeconds: t3.timeIntervalSince(t2))
    }
}
